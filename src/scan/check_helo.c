/*
 * HELO/EHLO name (SCAN-4, RFC 5321 4.1.1.1 and 2.3.5): a fully qualified
 * domain name or an address literal; not our own name (a forgery spammers
 * like); an address literal must be the client's own address (which
 * also refuses a literal of ours). From outside (not the trusted
 * networks), not one of our local domains or a subdomain of one either,
 * and not a name that resolves to one of our listener addresses (issue 18
 * item 5): an A/AAAA lookup on the event loop, never blocking.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "dns/dns.h"
#include "scan/scan.h"

/* FQDN: two or more labels of letters, digits and inner hyphens; the
 * top-level label not all digits. */
static bool fqdn_valid(const char *s)
{
	size_t len = strlen(s), label = 0, labels = 0;
	bool digits_only = true;
	if (len == 0 || len > 253)
		return false;
	if (s[len - 1] == '.')
		len--;  /* a trailing root dot is allowed */
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			labels++;
			if (i < len)
				digits_only = true;
			label = 0;
			continue;
		}
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (!alpha && !(c >= '0' && c <= '9') && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (alpha || c == '-')
			digits_only = false;
		label++;
	}
	return labels >= 2 && !digits_only;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]": the address, or false. */
static bool literal_address(const char *s, struct sockaddr_storage *out)
{
	size_t len = strlen(s);
	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return false;
	char text[64];
	if (len - 2 >= sizeof(text))
		return false;
	memcpy(text, s + 1, len - 2);
	text[len - 2] = '\0';
	memset(out, 0, sizeof(*out));
	if (strncasecmp(text, "IPv6:", 5) == 0) {
		out->ss_family = AF_INET6;
		return inet_pton(AF_INET6, text + 5, &((struct sockaddr_in6 *)(void *)out)->sin6_addr) == 1;
	}
	out->ss_family = AF_INET;
	return inet_pton(AF_INET, text, &((struct sockaddr_in *)(void *)out)->sin_addr) == 1;
}

static bool same_client(const struct sockaddr_storage *lit, const struct sockaddr_storage *client)
{
	if (lit->ss_family == AF_INET && client->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)lit)->sin_addr,
			      &((const struct sockaddr_in *)(const void *)client)->sin_addr, 4) == 0;
	if (lit->ss_family == AF_INET6 && client->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)lit)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)client)->sin6_addr, 16) == 0;
	if (lit->ss_family == AF_INET && client->ss_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)client)->sin6_addr;
		return IN6_IS_ADDR_V4MAPPED(a6) &&
		       memcmp(&((const struct sockaddr_in *)(const void *)lit)->sin_addr, a6->s6_addr + 12, 4) == 0;
	}
	return false;
}

/* name, or a parent domain of it, is one of our local domains. */
static bool in_local_domain(const struct config *c, const char *name)
{
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;  /* the root dot */
	for (size_t i = 0; i < len; i++)
		if ((i == 0 || name[i - 1] == '.') && config_is_local_domain(c, name + i, len - i))
			return true;
	return false;
}

/* Listener i's address, unless it is a wildcard (0.0.0.0, ::): then the
 * address a client reached is not known here, and it is not compared. */
static bool listener_address(const struct config *c, size_t i, int family, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	out->ss_family = (sa_family_t)family;
	void *bin = family == AF_INET ? (void *)&((struct sockaddr_in *)(void *)out)->sin_addr
				      : (void *)&((struct sockaddr_in6 *)(void *)out)->sin6_addr;
	static const unsigned char zero[16];
	return inet_pton(family, c->listeners[i].address, bin) == 1 &&
	       memcmp(bin, zero, family == AF_INET ? 4 : 16) != 0;
}

static bool is_listener_address(const struct config *c, const struct sockaddr_storage *a)
{
	struct sockaddr_storage l;
	for (size_t i = 0; i < c->n_listeners; i++)
		if (listener_address(c, i, a->ss_family, &l) && same_client(&l, a))
			return true;
	return false;
}

static bool has_listener_address(const struct config *c, int family)
{
	struct sockaddr_storage l;
	for (size_t i = 0; i < c->n_listeners; i++)
		if (listener_address(c, i, family, &l))
			return true;
	return false;
}

static void on_helo_aaaa(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n);

/* A (then AAAA) answers for the HELO name: one of ours is a forgery. A
 * DNS failure proves nothing and is no hit. */
static void on_helo_addr(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n,
			 bool last)
{
	struct scan_job *job = arg;
	if (!scan_job_alive(job)) {
		scan_job_done(job);
		return;
	}
	struct scan_facts *f = scan_job_facts(job);
	const struct config *c = scan_job_config(job);
	for (size_t i = 0; st == DNS_OK && i < n; i++) {
		if (is_listener_address(c, &addrs[i])) {
			char detail[700];
			snprintf(detail, sizeof(detail), "<%s>: HELO/EHLO name resolves to our own address", f->helo);
			scan_hit(job, "HELO_OURS", -1, detail);
			scan_job_done(job);
			return;
		}
	}
	if (!last && has_listener_address(c, AF_INET6))
		dns_query_addr(scan_job_dns(job), f->helo, AF_INET6, on_helo_aaaa, job);
	else
		scan_job_done(job);
}

static void on_helo_a(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	on_helo_addr(arg, st, addrs, n, false);
}

static void on_helo_aaaa(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	on_helo_addr(arg, st, addrs, n, true);
}

static void helo_helo(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	const struct config *c = scan_job_config(job);
	char detail[700];
	struct sockaddr_storage lit;
	if (f->helo[0] == '[') {
		if (!literal_address(f->helo, &lit)) {
			snprintf(detail, sizeof(detail), "<%s>: invalid address literal in HELO/EHLO", f->helo);
			scan_hit(job, "HELO_BAD_SYNTAX", -1, detail);
		} else if (!same_client(&lit, &f->client)) {
			snprintf(detail, sizeof(detail), "<%s>: HELO/EHLO address literal is not your address [%s]",
				 f->helo, f->client_ip);
			scan_hit(job, "HELO_LITERAL_MISMATCH", -1, detail);
		}
	} else if (!fqdn_valid(f->helo)) {
		snprintf(detail, sizeof(detail), "<%s>: HELO/EHLO needs a fully qualified domain name", f->helo);
		scan_hit(job, "HELO_BAD_SYNTAX", -1, detail);
	} else if (strcasecmp(f->helo, c->hostname) == 0) {
		snprintf(detail, sizeof(detail), "<%s>: HELO/EHLO with our own name", f->helo);
		scan_hit(job, "HELO_OURS", -1, detail);
	} else if (!f->outbound && in_local_domain(c, f->helo)) {
		/* Our own servers (trusted networks) may well be named so. */
		snprintf(detail, sizeof(detail), "<%s>: HELO/EHLO with our own domain", f->helo);
		scan_hit(job, "HELO_OURS", -1, detail);
	} else if (!f->outbound && has_listener_address(c, AF_INET)) {
		dns_query_addr(scan_job_dns(job), f->helo, AF_INET, on_helo_a, job);
		return;
	} else if (!f->outbound && has_listener_address(c, AF_INET6)) {
		dns_query_addr(scan_job_dns(job), f->helo, AF_INET6, on_helo_aaaa, job);
		return;
	}
	scan_job_done(job);
}

const struct scan_check scan_check_helo = {
	.name = "helo",
	.default_reply = "550 5.7.1 Helo command rejected",
	.stage = { [SCAN_STAGE_HELO] = helo_helo },
};
