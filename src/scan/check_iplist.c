/*
 * Static IP allow and deny lists (SCAN-3): files of CIDR networks, IPv4
 * and IPv6. A listed-allowed client skips the reputation checks; a
 * denied one is a hit (refused or scored by policy).
 */
#include "scan/data.h"
#include "scan/ipset.h"
#include "scan/scan.h"

static void iplist_connect(struct scan_job *job)
{
	const struct scan_data *d = scan_process_data();
	struct scan_facts *f = scan_job_facts(job);
	const struct sockaddr *sa = (const struct sockaddr *)&f->client;
	if (d && ipset_lookup(d->allow, sa, NULL))
		f->allowlisted = true;
	else if (d && ipset_lookup(d->deny, sa, NULL))
		scan_hit(job, "IP_DENY", -1, "client address on the deny list");
	scan_job_done(job);
}

const struct scan_check scan_check_iplist = {
	.name = "iplist",
	.default_reply = "554 5.7.1 Access denied",
	.stage = { [SCAN_STAGE_CONNECT] = iplist_connect },
};
