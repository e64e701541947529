/*
 * Reverse DNS exists (SCAN-4, RFC 8601 iprev): the client address has a
 * PTR record. No PTR (NXDOMAIN or no data) is a hit; a timeout is not
 * (iprev=temperror), since a broken resolver must not refuse mail.
 */
#include <stdio.h>

#include "dns/dns.h"
#include "scan/scan.h"

static void on_ptr(void *arg, enum dns_status st, char *const *names, size_t n)
{
	struct scan_job *job = arg;
	if (scan_job_alive(job)) {
		struct scan_facts *f = scan_job_facts(job);
		if (st == DNS_OK && n > 0) {
			snprintf(f->ptr, sizeof(f->ptr), "%s", names[0]);
		} else if (st == DNS_TEMPFAIL) {
			f->iprev = "temperror";
		} else {
			f->iprev = "fail";
			char detail[120];
			snprintf(detail, sizeof(detail), "client [%s] has no reverse DNS", f->client_ip);
			scan_hit(job, "RDNS_NONE", -1, detail);
		}
	}
	scan_job_done(job);
}

static void rdns_connect(struct scan_job *job)
{
	struct dns *dns = scan_job_dns(job);
	if (!dns) {
		scan_job_facts(job)->iprev = "temperror";
		scan_job_done(job);
		return;
	}
	dns_query_ptr(dns, (const struct sockaddr *)&scan_job_facts(job)->client, on_ptr, job);
}

const struct scan_check scan_check_rdns = {
	.name = "rdns",
	.default_reply = "550 5.7.25 Client host rejected: cannot find your reverse hostname",
	.reputation = true,
	.stage = { [SCAN_STAGE_CONNECT] = rdns_connect },
};
