#include "dns/dnssec.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <unbound.h>

#include "util/alloc.h"

struct dnssec_query {
	struct dnssec *d;
	int id;
	dnssec_cb cb;
	void *arg;
	LIST_ENTRY(dnssec_query) link;
};

struct dnssec {
	struct ub_ctx *ctx;
	struct event *ev;
	LIST_HEAD(, dnssec_query) queries;
};

static void on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct dnssec *d = arg;
	(void)fd;
	(void)what;
	ub_process(d->ctx);
}

static bool setup_ctx(struct ub_ctx *ctx, const char *trust_anchor, const char *resolver, char *err, size_t errlen)
{
	int rc;
	const char *what = "trust anchor";
	if ((rc = ub_ctx_add_ta_file(ctx, trust_anchor)) == 0 && resolver) {
		what = "resolver";
		rc = ub_ctx_set_fwd(ctx, resolver);
	}
	if (rc == 0) {
		what = "threads";
		rc = ub_ctx_async(ctx, 1);
	}
	if (rc != 0)
		snprintf(err, errlen, "DNSSEC validator: %s: %s", what, ub_strerror(rc));
	return rc == 0;
}

struct dnssec *dnssec_new(struct event_base *base, const char *trust_anchor, const char *resolver, char *err,
			  size_t errlen)
{
	struct ub_ctx *ctx = ub_ctx_create();
	if (!ctx) {
		snprintf(err, errlen, "DNSSEC validator: cannot create the libunbound context");
		return NULL;
	}
	if (!setup_ctx(ctx, trust_anchor, resolver, err, errlen)) {
		ub_ctx_delete(ctx);
		return NULL;
	}
	struct dnssec *d = xcalloc(1, sizeof(*d));
	d->ctx = ctx;
	LIST_INIT(&d->queries);
	d->ev = event_new(base, ub_fd(ctx), EV_READ | EV_PERSIST, on_fd, d);
	event_add(d->ev, NULL);
	return d;
}

static void finish(struct dnssec_query *q, const struct dnssec_answer *a)
{
	LIST_REMOVE(q, link);
	q->cb(q->arg, a);
	free(q);
}

static enum dnssec_status status_of(int err, const struct ub_result *r)
{
	if (err != 0 || !r || (r->rcode != 0 && r->rcode != 3))  /* 3: NXDOMAIN is an answer */
		return r && r->bogus ? DNSSEC_BOGUS : DNSSEC_FAIL;
	if (r->bogus)
		return DNSSEC_BOGUS;
	return r->secure ? DNSSEC_SECURE : DNSSEC_INSECURE;
}

static void on_result(void *arg, int err, struct ub_result *r)
{
	struct dnssec_query *q = arg;
	struct dnssec_answer a = { .status = status_of(err, r) };
	if (r && r->why_bogus)
		a.why = r->why_bogus;
	if (r && r->havedata && a.status != DNSSEC_FAIL)
		for (size_t i = 0; r->data[i] && a.n < DNSSEC_RDATA_MAX; i++, a.n++) {
			a.rdata[a.n] = (const uint8_t *)r->data[i];
			a.len[a.n] = (size_t)r->len[i];
		}
	finish(q, &a);
	ub_resolve_free(r);
}

void dnssec_query(struct dnssec *d, const char *name, int rrtype, dnssec_cb cb, void *arg)
{
	struct dnssec_query *q = xcalloc(1, sizeof(*q));
	*q = (struct dnssec_query){ .d = d, .cb = cb, .arg = arg };
	LIST_INSERT_HEAD(&d->queries, q, link);
	if (ub_resolve_async(d->ctx, name, rrtype, 1 /* IN */, q, on_result, &q->id) != 0)
		finish(q, &(struct dnssec_answer){ .status = DNSSEC_FAIL });
}

void dnssec_free(struct dnssec *d)
{
	if (!d)
		return;
	struct dnssec_query *q;
	while ((q = LIST_FIRST(&d->queries)) != NULL) {
		ub_cancel(d->ctx, q->id);
		finish(q, &(struct dnssec_answer){ .status = DNSSEC_STOPPED });
	}
	event_free(d->ev);
	ub_ctx_delete(d->ctx);
	free(d);
}
