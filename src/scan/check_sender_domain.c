/*
 * The sender's domain resolves (SCAN-4): it has MX records, or A/AAAA
 * records (RFC 5321 5.1 implicit MX). A null MX (RFC 7505) or a domain
 * that does not exist is a hit; a temporary DNS failure is not. The null
 * sender (bounces) is not checked.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "scan/scan.h"

static void hit(struct scan_job *job, const char *domain, const char *why)
{
	char detail[700];
	snprintf(detail, sizeof(detail), "<%s>: sender domain %s", scan_job_facts(job)->sender, why);
	scan_hit(job, "SENDER_DOMAIN_UNRESOLVABLE", -1, detail);
	(void)domain;
}

static void on_addr(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	struct scan_job *job = arg;
	if (scan_job_alive(job) && st != DNS_OK && st != DNS_TEMPFAIL)
		hit(job, NULL, "has no MX or address records");
	scan_job_done(job);
}

static void on_mx(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n)
{
	struct scan_job *job = arg;
	if (!scan_job_alive(job) || st == DNS_TEMPFAIL) {
		scan_job_done(job);
		return;
	}
	const char *at = strrchr(scan_job_facts(job)->sender, '@');
	if (st == DNS_OK && n == 1 && mx[0].host[0] == '\0')
		hit(job, at + 1, "does not accept mail (null MX)");
	else if (st == DNS_NXDOMAIN)
		hit(job, at + 1, "does not exist");
	else if (st != DNS_OK) {
		dns_query_addr(scan_job_dns(job), at + 1, AF_INET, on_addr, job);
		return;
	}
	scan_job_done(job);
}

static void sender_mail(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	const char *at = strrchr(f->sender, '@');
	if (!f->sender[0] || !at || at[1] == '[' || !scan_job_dns(job)) {
		scan_job_done(job);
		return;
	}
	dns_query_mx(scan_job_dns(job), at + 1, on_mx, job);
}

const struct scan_check scan_check_sender_domain = {
	.name = "sender_domain",
	.default_reply = "550 5.1.8 Sender address rejected: domain not found",
	.stage = { [SCAN_STAGE_MAIL] = sender_mail },
};
