/*
 * The "queue:" section of the configuration (see queue/config.h): the
 * keys, their bounds and defaults, the smart host parsed into a next hop,
 * and the check of the retry delays against each other. Runs in the
 * master, before the privilege drop; no I/O.
 */
#include "queue/config.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/loader.h"
#include "config/schema.h"
#include "config/section.h"
#include "net/srcaddr.h"
#include "policy/route.h"
#include "quarantine/digest.h"
#include "queue/smarthost_auth.h"
#include "util/alloc.h"

#define MINUTE 60ULL
#define HOUR (60ULL * MINUTE)
#define DAY (24ULL * HOUR)

static void queue_config_free(struct queue_config *q)
{
	if (!q)
		return;
	free(q->smart_host);
	free(q->smart_host_auth);
	free(q->bounce_notify);
	free(q->source_address);
	free(q->quarantine_digest_from);
	free(q->quarantine_digest_at);
	free(q->quarantine_digest_subject);
	if (q->smart_route) {
		route_free(q->smart_route);
		free(q->smart_route);
	}
	free(q);
}

/* queue.source_address: one IPv4 and/or one IPv6 address (SEC-3). */
static const char *check_source_address(const char *s, size_t len)
{
	return srcaddr_parse(s, len, NULL);
}

/* A Subject written into a header line as it is: printable ASCII only
 * (no line break can end up in the digest's header section). */
static const char *check_subject(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] >= 0x7f)
			return "printable ASCII only";
	return NULL;
}

static const char *check_time_of_day(const char *s, size_t len)
{
	char text[8];
	if (len != 5)
		return "must be HH:MM (00:00 to 23:59)";
	memcpy(text, s, len);
	text[len] = '\0';
	return digest_time_of_day(text) < 0 ? "must be HH:MM (00:00 to 23:59)" : NULL;
}

#define OFF(field) offsetof(struct queue_config, field)

static const struct config_key queue_keys[] = {
	{ { "retry_min", SCHEMA_DURATION, 1, DAY, OFF(retry_min), NULL, NULL,
	    "first retry delay, doubled after each failed try" }, "1m" },
	{ { "retry_max", SCHEMA_DURATION, 1, 7 * DAY, OFF(retry_max), NULL, NULL,
	    "longest delay between two tries; at least queue.retry_min" }, "1h" },
	{ { "lifetime", SCHEMA_DURATION, 1, 30 * DAY, OFF(lifetime), NULL, NULL,
	    "time a message may stay queued before it bounces" }, "5d" },
	{ { "delivery_concurrency", SCHEMA_UINT, 1, 1000, OFF(delivery_concurrency), NULL, NULL,
	    "simultaneous outbound deliveries" }, "20" },
	{ { "connect_timeout", SCHEMA_DURATION, 1, 10 * MINUTE, OFF(connect_timeout), NULL, NULL,
	    "time allowed to connect to a next hop" }, "30s" },
	{ { "reply_timeout", SCHEMA_DURATION, 1, HOUR, OFF(reply_timeout), NULL, NULL,
	    "time allowed for each SMTP reply of a next hop" }, "5m" },
	{ { "mx_port", SCHEMA_UINT, 1, 65535, OFF(mx_port), NULL, NULL,
	    "TCP port of MX hosts (25; a test setup points it at its sink)" }, "25" },
	{ { "mx_allow_loopback", SCHEMA_BOOL, 0, 0, OFF(mx_allow_loopback), NULL, NULL,
	    "deliver to MX hosts whose addresses are loopback (127.0.0.0/8, ::1): only for a test setup whose MX "
	    "hosts listen there; otherwise such a host is a loop to ourselves (RFC 5321 5.1)" }, "false" },
	{ { "smart_host", SCHEMA_STRING, 1, 300, OFF(smart_host), NULL, NULL,
	    "smtp://, smtps:// or lmtp:// next hop for every domain without a route, instead of MX lookups (TOP-2)" }, NULL },
	{ { "delay_warning", SCHEMA_DURATION, 0, 30 * DAY, OFF(delay_warning), NULL, NULL,
	    "send a 'delayed' DSN to the sender after this long in the queue; 0: never" }, "4h" },
	{ { "bounce_notify", SCHEMA_STRING, 1, 254, OFF(bounce_notify), NULL, schema_check_mailbox,
	    "address that gets bounces which cannot be delivered (default: log and drop them)" }, NULL },
	{ { "per_destination", SCHEMA_UINT, 1, 1000, OFF(per_destination), NULL, NULL,
	    "simultaneous connections to one next hop" }, "10" },
	{ { "connection_reuse", SCHEMA_BOOL, 0, 0, OFF(connection_reuse), NULL, NULL,
	    "keep a connection open for the next message to the same next hop" }, "true" },
	{ { "source_address", SCHEMA_STRING, 1, 200, OFF(source_address), NULL, check_source_address,
	    "IPv4 and/or IPv6 address outbound connections come from (SEC-3: the one whose PTR is hostname)" }, NULL },
	{ { "quarantine_expiry", SCHEMA_DURATION, 0, 3650 * DAY, OFF(quarantine_expiry), NULL, NULL,
	    "time a quarantined message is kept after its arrival, then deleted (logged); 0: until deleted by hand" },
	  "30d" },
	{ { "quarantine_digest", SCHEMA_BOOL, 0, 0, OFF(quarantine_digest), NULL, NULL,
	    "send each recipient of held inbound mail a list of it every quarantine_digest_interval" }, "false" },
	{ { "quarantine_digest_interval", SCHEMA_DURATION, 1, 30 * DAY, OFF(quarantine_digest_interval), NULL, NULL,
	    "time between two quarantine digests" }, "1d" },
	{ { "quarantine_digest_at", SCHEMA_STRING, 5, 5, OFF(quarantine_digest_at), NULL, check_time_of_day,
	    "send the digest once a day at this local time, \"HH:MM\", instead of every interval" }, NULL },
	{ { "quarantine_digest_from", SCHEMA_STRING, 1, 254, OFF(quarantine_digest_from), NULL, schema_check_mailbox,
	    "envelope sender and From: of the digest (default: postmaster@ the hostname)" }, NULL },
	{ { "quarantine_digest_subject", SCHEMA_STRING, 1, 200, OFF(quarantine_digest_subject), NULL,
	    check_subject, "Subject: of the digest (printable ASCII)" }, "Messages held in quarantine" },
	{ { "quarantine_digest_max", SCHEMA_UINT, 1, 1000, OFF(quarantine_digest_max), NULL, NULL,
	    "messages listed in one digest (the rest are counted)" }, "50" },
};

static void *queue_create(void)
{
	struct queue_config *q = xcalloc(1, sizeof(*q));
	return q;
}

static void queue_attach(struct config *c, void *part)
{
	queue_config_free(c->queue);
	c->queue = part;
}

/* queue.smart_host_auth (issue 15), the one key that is a mapping. */
static bool queue_load(struct loader *ld, void *part, const char *k, size_t klen, struct fy_node *v,
		       const char *name, int kline)
{
	struct queue_config *q = part;
	if (!loader_text_is(k, klen, "smart_host_auth"))
		return false;
	smarthost_auth_parse(ld, v, name, kline, &q->smart_host_auth, &q->smart_host_auth_line);
	return true;
}

/* queue.smart_host: a next hop as in routes, but only smtp://, smtps://
 * or lmtp://. Its credentials file is read by preflight_check. */
static void queue_finish(struct loader *ld, const char *path)
{
	struct queue_config *q = ld->cfg->queue;
	const char *why = NULL;

	if (q && q->smart_host_auth)
		loader_resolve_path(ld, path, &q->smart_host_auth, "queue.smart_host_auth.credentials");
	if (!q || !q->smart_host)
		return;
	q->smart_route = xcalloc(1, sizeof(*q->smart_route));
	if (!route_parse_nexthop(q->smart_host, q->smart_route, &why))
		;
	else if (q->smart_route->kind == ROUTE_MAILDIR)
		why = "a smart host is smtp://host:port, smtps://host:port or lmtp://host:port";
	if (why)
		loader_err(ld, loader_set_line(ld, "queue.smart_host"), "queue.smart_host", "%s", why);
	q->smart_route->domain = xstrdup("*");
}

static void queue_check(struct loader *ld)
{
	const struct queue_config *q = ld->cfg->queue;

	if (q && q->retry_max < q->retry_min) {
		int max_line = loader_set_line(ld, "queue.retry_max");
		int min_line = loader_set_line(ld, "queue.retry_min");

		/* Blame the key the administrator wrote; retry_max if both. */
		if (max_line || !min_line)
			loader_err(ld, max_line, "queue.retry_max", "must not be shorter than queue.retry_min");
		else
			loader_err(ld, min_line, "queue.retry_min", "must not be longer than queue.retry_max");
	}
}

static void queue_release(struct config *c)
{
	queue_config_free(c->queue);
	c->queue = NULL;
}

const struct config_section queue_config_section = {
	.key = "queue",
	.keys = queue_keys,
	.n_keys = sizeof(queue_keys) / sizeof(queue_keys[0]),
	.create = queue_create,
	.load = queue_load,
	.attach = queue_attach,
	.finish = queue_finish,
	.check = queue_check,
	.release = queue_release,
};
