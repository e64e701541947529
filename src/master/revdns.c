#include "master/revdns.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "dns/dns.h"
#include "net/addr_text.h"
#include "net/srcaddr.h"
#include "queue/config.h"

#define REVDNS_ADDRS_MAX 16
#define REVDNS_NAMES_MAX 4

/* One address to check: its PTR answer. */
struct revdns_addr {
	struct sockaddr_storage ss;
	char text[INET6_ADDRSTRLEN];
	bool is_source;           /* from queue.source_address */
	enum dns_status st;
	char names[REVDNS_NAMES_MAX][256];
	size_t n_names;
};

struct revdns;

/* The argument of one query: where its answer goes. */
struct revdns_query {
	struct revdns *r;
	size_t index;             /* A/AAAA: 0/1; PTR: the address */
};

struct revdns {
	const struct config *c;
	struct event_base *base;
	struct dns *dns;
	unsigned pending;         /* queries of the current step not answered yet */
	enum dns_status forward_st[2];   /* A, AAAA */
	struct revdns_addr addrs[REVDNS_ADDRS_MAX];
	size_t n_addrs;           /* hostname's addresses first, then sources not among them */
	size_t n_forward;         /* how many of addrs came from hostname's A/AAAA */
	struct revdns_query queries[REVDNS_ADDRS_MAX];
};

static size_t revdns_add(struct revdns *r, const struct sockaddr *sa, size_t len)
{
	char text[INET6_ADDRSTRLEN] = "?";
	addr_text(sa, text);
	for (size_t i = 0; i < r->n_addrs; i++)
		if (strcmp(r->addrs[i].text, text) == 0)
			return i;
	if (r->n_addrs == REVDNS_ADDRS_MAX)
		return REVDNS_ADDRS_MAX;
	struct revdns_addr *a = &r->addrs[r->n_addrs];
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, sa, len);
	snprintf(a->text, sizeof(a->text), "%s", text);
	return r->n_addrs++;
}

static void on_ptr(void *arg, enum dns_status st, char *const *names, size_t n)
{
	struct revdns_query *q = arg;
	struct revdns_addr *a = &q->r->addrs[q->index];
	a->st = st;
	for (size_t i = 0; st == DNS_OK && i < n && a->n_names < REVDNS_NAMES_MAX; i++)
		snprintf(a->names[a->n_names++], sizeof(a->names[0]), "%s", names[i]);
	if (--q->r->pending == 0)
		event_base_loopbreak(q->r->base);
}

/* Second step, once both forward answers are in: add the source
 * addresses, then ask for the PTR of each address that matters. Callbacks
 * never run inside dns_query_*(), so pending is complete before any. */
static void revdns_reverse(struct revdns *r)
{
	struct srcaddr src;
	const char *sa_text = r->c->queue->source_address;
	r->n_forward = r->n_addrs;
	if (sa_text && !srcaddr_parse(sa_text, strlen(sa_text), &src)) {
		for (int f = 0; f < 2; f++) {
			size_t len;
			const struct sockaddr *sa = srcaddr_for(&src, f ? AF_INET6 : AF_INET, &len);
			size_t k = sa ? revdns_add(r, sa, len) : REVDNS_ADDRS_MAX;
			if (k < REVDNS_ADDRS_MAX)
				r->addrs[k].is_source = true;
		}
	}
	r->pending = 0;
	for (size_t i = 0; i < r->n_addrs; i++)
		if (!sa_text || r->addrs[i].is_source)
			r->pending++;
	if (r->pending == 0) {
		event_base_loopbreak(r->base);
		return;
	}
	for (size_t i = 0; i < r->n_addrs; i++) {
		if (sa_text && !r->addrs[i].is_source)
			continue;
		r->queries[i] = (struct revdns_query){ r, i };
		dns_query_ptr(r->dns, (const struct sockaddr *)&r->addrs[i].ss, on_ptr, &r->queries[i]);
	}
}

static void on_forward(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	struct revdns_query *q = arg;
	struct revdns *r = q->r;
	r->forward_st[q->index] = st;
	for (size_t i = 0; st == DNS_OK && i < n; i++)
		revdns_add(r, (const struct sockaddr *)&addrs[i],
			   addrs[i].ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if (--r->pending == 0)
		revdns_reverse(r);
}

/* PTR names compare without case and without a final dot. */
static bool revdns_names_host(const struct revdns_addr *a, const char *host)
{
	size_t hl = strlen(host);
	for (size_t i = 0; i < a->n_names; i++) {
		size_t nl = strlen(a->names[i]);
		if (nl > 0 && a->names[i][nl - 1] == '.')
			nl--;
		if (nl == hl && strncasecmp(a->names[i], host, hl) == 0)
			return true;
	}
	return false;
}

static void revdns_report(const struct revdns *r, struct config_errors *w)
{
	const struct config *c = r->c;
	const char *src = c->source, *host = c->hostname;
	if (r->forward_st[0] == DNS_TEMPFAIL && r->forward_st[1] == DNS_TEMPFAIL) {
		config_errors_add(w, "%s: warning: hostname %s: DNS lookup failed (no answer): double-reverse DNS "
				  "(SEC-3) not checked", src, host);
		return;
	}
	if (r->n_forward == 0)
		config_errors_add(w, "%s: warning: hostname %s has no A or AAAA record (%s): peers that check "
				  "double-reverse DNS (SEC-3) will distrust the gateway", src, host,
				  dns_status_name(r->forward_st[0]));
	for (size_t i = 0; i < r->n_addrs; i++) {
		const struct revdns_addr *a = &r->addrs[i];
		if (c->queue->source_address && !a->is_source)
			continue;
		if (a->is_source && i >= r->n_forward && r->n_forward > 0)
			config_errors_add(w, "%s: warning: queue.source_address %s is not an address of hostname %s "
					  "(double-reverse DNS, SEC-3)", src, a->text, host);
		if (a->st != DNS_OK)
			config_errors_add(w, "%s: warning: %s %s has no PTR record (%s): double-reverse DNS (SEC-3) "
					  "fails", src, a->is_source ? "queue.source_address" : "address of hostname",
					  a->text, dns_status_name(a->st));
		else if (!revdns_names_host(a, host))
			config_errors_add(w, "%s: warning: %s %s has PTR %s, not hostname %s: double-reverse DNS "
					  "(SEC-3) fails", src, a->is_source ? "queue.source_address" : "address of hostname",
					  a->text, a->names[0], host);
	}
}

void revdns_check(const struct config *c, struct config_errors *warnings)
{
	struct revdns r = { .c = c };
	r.base = event_base_new();
	if (!r.base)
		return;
	r.dns = dns_new(r.base, c->dns.servers, c->dns.timeout * 1000, 2);
	if (!r.dns) {
		config_errors_add(warnings, "%s: warning: no DNS resolver: double-reverse DNS (SEC-3) not checked",
				  c->source);
		event_base_free(r.base);
		return;
	}
	struct revdns_query q[2] = { { &r, 0 }, { &r, 1 } };
	r.pending = 2;
	dns_query_addr(r.dns, c->hostname, AF_INET, on_forward, &q[0]);
	dns_query_addr(r.dns, c->hostname, AF_INET6, on_forward, &q[1]);
	event_base_dispatch(r.base);
	revdns_report(&r, warnings);
	dns_free(r.dns);
	event_base_free(r.base);
}
