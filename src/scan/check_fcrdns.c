/*
 * Forward-confirmed reverse DNS (SCAN-4, RFC 8601 iprev): one of the
 * client's PTR names resolves (A or AAAA) back to the client address.
 * Uses the PTR found by the rdns check when it ran, otherwise looks it up.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "scan/scan.h"

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
			      &((const struct sockaddr_in *)(const void *)b)->sin_addr, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16) == 0;
}

static void fail(struct scan_job *job, const char *why)
{
	struct scan_facts *f = scan_job_facts(job);
	f->iprev = "fail";
	char detail[400];
	snprintf(detail, sizeof(detail), "client [%s] %s", f->client_ip, why);
	scan_hit(job, "FCRDNS_FAIL", -1, detail);
}

static void on_forward(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	struct scan_job *job = arg;
	if (scan_job_alive(job)) {
		struct scan_facts *f = scan_job_facts(job);
		bool match = false;
		for (size_t i = 0; st == DNS_OK && i < n && !match; i++)
			match = same_address(&addrs[i], &f->client);
		if (match)
			f->iprev = "pass";
		else if (st == DNS_TEMPFAIL)
			f->iprev = "temperror";
		else
			fail(job, "reverse hostname does not resolve back to the address");
	}
	scan_job_done(job);
}

static void forward(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	dns_query_addr(scan_job_dns(job), f->ptr, f->client.ss_family, on_forward, job);
}

static void on_ptr(void *arg, enum dns_status st, char *const *names, size_t n)
{
	struct scan_job *job = arg;
	if (!scan_job_alive(job)) {
		scan_job_done(job);
		return;
	}
	struct scan_facts *f = scan_job_facts(job);
	if (st == DNS_OK && n > 0) {
		snprintf(f->ptr, sizeof(f->ptr), "%s", names[0]);
		forward(job);
		return;
	}
	if (st == DNS_TEMPFAIL)
		f->iprev = "temperror";
	else
		fail(job, "has no reverse DNS");
	scan_job_done(job);
}

static void fcrdns_connect(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	struct dns *dns = scan_job_dns(job);
	if (!dns || (f->iprev && strcmp(f->iprev, "temperror") == 0)) {
		f->iprev = "temperror";
		scan_job_done(job);
		return;
	}
	if (f->iprev && strcmp(f->iprev, "fail") == 0) {
		fail(job, "has no reverse DNS");  /* rdns found none */
		scan_job_done(job);
	} else if (f->ptr[0]) {
		forward(job);
	} else {
		dns_query_ptr(dns, (const struct sockaddr *)&f->client, on_ptr, job);
	}
}

const struct scan_check scan_check_fcrdns = {
	.name = "fcrdns",
	.default_reply = "550 5.7.25 Client host rejected: reverse hostname does not match the address",
	.reputation = true,
	.stage = { [SCAN_STAGE_CONNECT] = fcrdns_connect },
};
