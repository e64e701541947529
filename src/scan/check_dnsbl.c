/*
 * Live DNS blocklists (SCAN-3): for each configured zone an A query for
 * the reversed client address (RFC 5782), all in parallel on the event
 * loop. An answer in 127.0.0.0/8 is a listing, weighted by its return
 * code when the zone maps codes to points; anything else (a hijacked
 * NXDOMAIN page, a "query refused" code outside 127/8) is ignored.
 * Off for privacy: with no zones configured no query is sent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "scan/scan.h"
#include "util/alloc.h"

struct dnsbl_run {
	struct scan_job *job;
	unsigned pending;
};

struct dnsbl_query {
	struct dnsbl_run *run;
	size_t zone;
};

/* The RFC 5782 query name; false for an address we cannot reverse. */
static bool reversed_name(const struct sockaddr *sa, const char *zone, char *out, size_t cap)
{
	const unsigned char *b;
	if (sa->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return snprintf(out, cap, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone) < (int)cap;
	}
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	b = a6->s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a6))
		return snprintf(out, cap, "%u.%u.%u.%u.%s", b[15], b[14], b[13], b[12], zone) < (int)cap;
	size_t o = 0;
	static const char hex[] = "0123456789abcdef";
	for (int i = 15; i >= 0 && o + 4 < cap; i--) {
		out[o++] = hex[b[i] & 15];
		out[o++] = '.';
		out[o++] = hex[b[i] >> 4];
		out[o++] = '.';
	}
	return snprintf(out + o, cap - o, "%s", zone) < (int)(cap - o);
}

static void run_release(struct dnsbl_run *run)
{
	if (--run->pending > 0)
		return;
	scan_job_done(run->job);
	free(run);
}

static void on_answer(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	struct dnsbl_query *q = arg;
	struct dnsbl_run *run = q->run;
	struct scan_job *job = run->job;
	if (st == DNS_OK && scan_job_alive(job)) {
		const struct scan_dnsbl *bl = &scan_job_scan_config(job)->dnsbls[q->zone];
		for (size_t i = 0; i < n; i++) {
			if (addrs[i].ss_family != AF_INET)
				continue;
			const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in *)
									(const void *)&addrs[i])->sin_addr;
			if (a[0] != 127)
				continue;
			int points = bl->points;
			for (size_t c = 0; c < bl->n_codes; c++)
				if (memcmp(bl->codes[c].code, a, 4) == 0)
					points = bl->codes[c].points;
			char detail[400];
			snprintf(detail, sizeof(detail), "client [%s] listed in %s (%u.%u.%u.%u)",
				 scan_job_facts(job)->client_ip, bl->zone, a[0], a[1], a[2], a[3]);
			scan_hit_points(job, "DNSBL", points, detail);
			break;  /* one hit per zone */
		}
	}
	free(q);
	run_release(run);
}

static void dnsbl_connect(struct scan_job *job)
{
	const struct scan_config *sc = scan_job_scan_config(job);
	struct dns *dns = scan_job_dns(job);
	struct scan_facts *f = scan_job_facts(job);
	if (!dns || sc->n_dnsbls == 0) {
		scan_job_done(job);
		return;
	}
	struct dnsbl_run *run = xcalloc(1, sizeof(*run));
	run->job = job;
	run->pending = 1;  /* released at the end of this function */
	for (size_t i = 0; i < sc->n_dnsbls; i++) {
		char name[320];
		if (!reversed_name((const struct sockaddr *)&f->client, sc->dnsbls[i].zone, name, sizeof(name)))
			continue;
		struct dnsbl_query *q = xcalloc(1, sizeof(*q));
		q->run = run;
		q->zone = i;
		run->pending++;
		dns_query_addr(dns, name, AF_INET, on_answer, q);
	}
	run_release(run);
}

const struct scan_check scan_check_dnsbl = {
	.name = "dnsbl",
	.default_reply = "554 5.7.1 Service unavailable",
	.reputation = true,
	.stage = { [SCAN_STAGE_CONNECT] = dnsbl_connect },
};
