/*
 * Greylisting (off by default): the first delivery attempt of a triplet
 * (client /24 or /64, sender, recipient) is answered 451; a retry after
 * scan.greylist_delay seconds passes, and the triplet stays known for
 * scan.greylist_expiry seconds after its last use. Real MTAs retry; most
 * spam software does not. A database error fails open (accept).
 * Policy "refuse" gives the temporary reply; under "score" it only adds
 * points for a first attempt.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scan/data.h"
#include "scan/scan.h"
#include "state/greylist.h"

/* The client's network: greylisting per address breaks senders that
 * retry from another host of the same farm. */
static void network_of(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	if (ss->ss_family == AF_INET) {
		const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr;
		snprintf(out, cap, "%u.%u.%u.0/24", b[0], b[1], b[2]);
		return;
	}
	struct in6_addr a = ((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
	memset(a.s6_addr + 8, 0, 8);
	char text[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &a, text, sizeof(text));
	snprintf(out, cap, "%s/64", text);
}

static void greylist_rcpt(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	const struct scan_config *sc = scan_job_scan_config(job);
	const struct scan_data *d = scan_process_data();
	char net[64], key[1400];
	network_of(&f->client, net, sizeof(net));
	snprintf(key, sizeof(key), "%s|%s|%s", net, f->sender, f->rcpt);
	if (d && greylist_check(d->greylist, key, time(NULL), sc->greylist_delay, sc->greylist_expiry) ==
			 GREYLIST_DEFER) {
		char detail[900];
		snprintf(detail, sizeof(detail), "<%s>: greylisted, try again later", f->rcpt);
		scan_hit(job, "GREYLIST", -1, detail);
	}
	scan_job_done(job);
}

const struct scan_check scan_check_greylist = {
	.name = "greylist",
	.default_reply = "451 4.7.1 Recipient address rejected",
	.stage = { [SCAN_STAGE_RCPT] = greylist_rcpt },
};
