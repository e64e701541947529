#include "queue/dane_lookup.h"

#include <stdio.h>
#include <stdlib.h>

#include "dns/dnssec.h"
#include "util/alloc.h"

#define RRTYPE_MX 15
#define RRTYPE_TLSA 52

struct dane_lookup;

struct tlsa_query {
	struct dane_lookup *l;
	size_t host;
};

struct dane_lookup {
	struct dane_result *r;
	unsigned pending;
	dane_lookup_cb cb;
	void *arg;
	char domain[256];
	struct tlsa_query queries[MX_HOSTS_MAX];
};

static const char *status_name(enum dnssec_status s)
{
	return s == DNSSEC_BOGUS ? "DNSSEC validation failed" : "no answer from the DNSSEC validator";
}

static void one_done(struct dane_lookup *l)
{
	if (--l->pending > 0)
		return;
	struct dane_result *r = l->r;
	for (size_t h = 0; h < MX_HOSTS_MAX; h++)
		if (r->host[h] != DANE_HOST_NONE)
			r->applies = r->mx_secure && !r->stopped;
	l->cb(l->arg, r);
	free(l);
}

static void on_mx(void *arg, const struct dnssec_answer *a)
{
	struct dane_lookup *l = arg;
	struct dane_result *r = l->r;
	r->stopped |= a->status == DNSSEC_STOPPED;
	r->mx_secure = a->status == DNSSEC_SECURE;
	if (a->status == DNSSEC_BOGUS || a->status == DNSSEC_FAIL) {
		r->mx_failed = true;
		snprintf(r->why, sizeof(r->why), "MX records of %.100s: %s%s%.120s", l->domain, status_name(a->status),
			 a->why ? ": " : "", a->why ? a->why : "");
	}
	one_done(l);
}

static void on_tlsa(void *arg, const struct dnssec_answer *a)
{
	struct tlsa_query *q = arg;
	struct dane_result *r = q->l->r;
	r->stopped |= a->status == DNSSEC_STOPPED;
	if (a->status == DNSSEC_BOGUS || a->status == DNSSEC_FAIL) {
		r->host[q->host] = DANE_HOST_FAILED;
	} else if (a->status == DNSSEC_SECURE) {
		for (size_t i = 0; i < a->n; i++)
			tlsa_add_usable(&r->tlsa[q->host], a->rdata[i], a->len[i]);
		if (r->tlsa[q->host].n > 0)
			r->host[q->host] = DANE_HOST_USABLE;
	}
	one_done(q->l);
}

void dane_lookup_start(struct dnssec *v, const char *domain, const struct mx_plan *plan, dane_lookup_cb cb,
		       void *arg)
{
	struct dane_lookup *l = xcalloc(1, sizeof(*l));
	l->r = xcalloc(1, sizeof(*l->r));
	l->cb = cb;
	l->arg = arg;
	snprintf(l->domain, sizeof(l->domain), "%s", domain);
	/* +1 for the MX query; all queries are counted before any is sent,
	 * as a failed one may end at once. */
	l->pending = (unsigned)plan->n + 1;
	char name[300];
	for (size_t h = 0; h < plan->n; h++) {
		l->queries[h] = (struct tlsa_query){ l, h };
		snprintf(name, sizeof(name), "_25._tcp.%s", plan->hosts[h]);
		dnssec_query(v, name, RRTYPE_TLSA, on_tlsa, &l->queries[h]);
	}
	dnssec_query(v, domain, RRTYPE_MX, on_mx, l);
}
