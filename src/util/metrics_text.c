/*
 * Prometheus text exposition of the counter block; see metrics_text.h.
 */
#include "util/metrics_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A bounded writer: once anything does not fit, the whole text fails. */
struct text {
	char *p;
	size_t size, len;
	bool overflow;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	if (t->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->p + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->size - t->len)
		t->overflow = true;
	else
		t->len += (size_t)n;
}

static uint64_t load(const uint64_t *cell)
{
	return __atomic_load_n(cell, __ATOMIC_RELAXED);
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP mailwarden_%s %s\n# TYPE mailwarden_%s %s\n", name, help, name, type);
}

/* One sample per cell of a labelled counter family: the table below. */
struct labelled {
	enum metric_counter cell;
	const char *label;   /* label="value", already quoted; NULL: none */
};

struct counter_family {
	const char *name, *help;
	struct labelled cells[6];  /* n of them; one unlabelled cell for a family without labels */
	size_t n;
};

static const struct counter_family counter_families[] = {
	{ "messages_received_total", "Messages whose end of data reached the queue.",
	  { { M_MESSAGES_RECEIVED, NULL } }, 1 },
	{ "messages_accepted_total", "Messages committed to the queue for delivery.",
	  { { M_MESSAGES_ACCEPTED, NULL } }, 1 },
	{ "messages_quarantined_total", "Messages committed to quarantine.",
	  { { M_MESSAGES_QUARANTINED, NULL } }, 1 },
	{ "messages_discarded_total", "Messages accepted towards the client and dropped.",
	  { { M_MESSAGES_DISCARDED, NULL } }, 1 },
	{ "messages_refused_total", "Messages refused at the end of data, by reason class.",
	  { { M_REFUSED_SCAN, "reason=\"scan\"" }, { M_REFUSED_POLICY, "reason=\"policy\"" },
	    { M_REFUSED_SIZE, "reason=\"size\"" }, { M_REFUSED_PROTOCOL, "reason=\"protocol\"" } }, 4 },
	{ "delivery_retries_total", "Delivery attempts per recipient after its message's first attempt.",
	  { { M_DELIVERY_RETRIES, NULL } }, 1 },
	{ "bounces_total", "Recipients given up on and reported to the sender (or the postmaster).",
	  { { M_BOUNCES, NULL } }, 1 },
	{ "tls_sessions_total", "TLS handshakes completed, by direction and version.",
	  { { M_TLS_IN_12, "direction=\"inbound\",version=\"TLSv1.2\"" },
	    { M_TLS_IN_13, "direction=\"inbound\",version=\"TLSv1.3\"" },
	    { M_TLS_IN_OTHER, "direction=\"inbound\",version=\"other\"" },
	    { M_TLS_OUT_12, "direction=\"outbound\",version=\"TLSv1.2\"" },
	    { M_TLS_OUT_13, "direction=\"outbound\",version=\"TLSv1.3\"" },
	    { M_TLS_OUT_OTHER, "direction=\"outbound\",version=\"other\"" } }, 6 },
	{ "auth_total", "SMTP AUTH attempts, by result.",
	  { { M_AUTH_OK, "result=\"success\"" }, { M_AUTH_FAILED, "result=\"failure\"" } }, 2 },
	{ "scan_verdicts_total", "Verdicts on messages, by action.",
	  { { M_VERDICT_ACCEPT, "action=\"accept\"" }, { M_VERDICT_TAG, "action=\"tag\"" },
	    { M_VERDICT_QUARANTINE, "action=\"quarantine\"" }, { M_VERDICT_REFUSE, "action=\"refuse\"" },
	    { M_VERDICT_DISCARD, "action=\"discard\"" } }, 5 },
};

static void counters(struct text *t, const struct metrics_block *b)
{
	for (size_t f = 0; f < sizeof(counter_families) / sizeof(counter_families[0]); f++) {
		const struct counter_family *cf = &counter_families[f];
		family(t, cf->name, "counter", cf->help);
		for (size_t i = 0; i < cf->n; i++) {
			uint64_t v = load(&b->counter[cf->cells[i].cell]);
			if (cf->cells[i].label)
				put(t, "mailwarden_%s{%s} %" PRIu64 "\n", cf->name, cf->cells[i].label, v);
			else
				put(t, "mailwarden_%s %" PRIu64 "\n", cf->name, v);
		}
	}
}

static void deliveries(struct text *t, const struct metrics_block *b)
{
	static const char *const hop[METRIC_HOPS] = { [HOP_MX] = "mx", [HOP_SMART_HOST] = "smart_host",
						      [HOP_ROUTE_SMTP] = "route", [HOP_LMTP] = "lmtp",
						      [HOP_MAILDIR] = "maildir" };
	static const char *const outcome[METRIC_OUTCOMES] = { [OUTCOME_SENT] = "sent", [OUTCOME_DEFERRED] = "deferred",
							      [OUTCOME_BOUNCED] = "bounced" };
	family(t, "deliveries_total", "counter", "Delivery attempts per recipient, by status and next hop class.");
	for (size_t h = 0; h < METRIC_HOPS; h++)
		for (size_t o = 0; o < METRIC_OUTCOMES; o++)
			put(t, "mailwarden_deliveries_total{status=\"%s\",nexthop=\"%s\"} %" PRIu64 "\n", outcome[o], hop[h],
			    load(&b->deliveries[h][o]));
}

static void sessions(struct text *t, const struct metrics_block *b, const char *const *names, size_t n)
{
	family(t, "sessions_open", "gauge", "SMTP sessions open now, by listener.");
	for (size_t i = 0; i < n; i++)
		put(t, "mailwarden_sessions_open{listener=\"%s\"} %" PRId64 "\n", names[i], (int64_t)load(&b->sessions_now[i]));
	family(t, "sessions_total", "counter", "SMTP sessions opened, by listener.");
	for (size_t i = 0; i < n; i++)
		put(t, "mailwarden_sessions_total{listener=\"%s\"} %" PRIu64 "\n", names[i], load(&b->sessions_total[i]));
}

static void queue_gauges(struct text *t, const struct metrics_block *b, uint64_t now)
{
	static const struct { enum metric_gauge g; const char *state; } states[] = {
		{ G_QUEUE_READY, "ready" },       { G_QUEUE_WAITING, "waiting" }, { G_QUEUE_ACTIVE, "active" },
		{ G_QUEUE_SETTLING, "settling" }, { G_QUEUE_HELD, "held" },
	};
	family(t, "queue_messages", "gauge", "Messages in the delivery queue, by state.");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		put(t, "mailwarden_queue_messages{state=\"%s\"} %" PRId64 "\n", states[i].state,
		    (int64_t)load(&b->gauge[states[i].g]));
	uint64_t oldest = load(&b->gauge[G_QUEUE_OLDEST_ARRIVAL]);
	family(t, "queue_oldest_message_age_seconds", "gauge",
	       "Age of the oldest message in the delivery queue (0 when empty).");
	put(t, "mailwarden_queue_oldest_message_age_seconds %" PRIu64 "\n", oldest && now > oldest ? now - oldest : 0);
}

/* One histogram's samples; label is "" or `name="value",` (the comma
 * included), put before le. */
static void histogram_samples(struct text *t, const struct metrics_histogram_cells *c, enum metric_histogram h,
			      const char *name, const char *label)
{
	uint64_t cumulative = 0;
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		cumulative += load(&c->bucket[i]);
		uint64_t bound = metrics_bucket_bound_us(h, i);
		if (bound == UINT64_MAX)
			put(t, "mailwarden_%s_bucket{%sle=\"+Inf\"} %" PRIu64 "\n", name, label, cumulative);
		else
			put(t, "mailwarden_%s_bucket{%sle=\"%" PRIu64 ".%06" PRIu64 "\"} %" PRIu64 "\n", name, label,
			    bound / 1000000, bound % 1000000, cumulative);
	}
	uint64_t sum = load(&c->sum_us);
	size_t n = strlen(label);
	/* the label without its trailing comma, in braces, for _sum and _count */
	if (n)
		put(t, "mailwarden_%s_sum{%.*s} %" PRIu64 ".%06" PRIu64 "\nmailwarden_%s_count{%.*s} %" PRIu64 "\n", name,
		    (int)(n - 1), label, sum / 1000000, sum % 1000000, name, (int)(n - 1), label, cumulative);
	else
		put(t, "mailwarden_%s_sum %" PRIu64 ".%06" PRIu64 "\nmailwarden_%s_count %" PRIu64 "\n", name,
		    sum / 1000000, sum % 1000000, name, cumulative);
}

static void histogram(struct text *t, const struct metrics_block *b, enum metric_histogram h, const char *name,
		      const char *help)
{
	family(t, name, "histogram", help);
	histogram_samples(t, &b->histogram[h], h, name, "");
}

/* One stage's checks: those that never ran (off in both directions)
 * are left out. */
static void check_stage(struct text *t, const struct metrics_histogram_cells *cells, size_t cap,
			const char *stage, const char *const *checks, size_t n)
{
	char label[128];
	for (size_t i = 0; i < n && i < cap; i++) {
		uint64_t count = 0;
		for (size_t k = 0; k < METRICS_BUCKETS; k++)
			count += load(&cells[i].bucket[k]);
		if (!count)
			continue;
		snprintf(label, sizeof(label), "stage=\"%s\",check=\"%s\",", stage, checks[i]);
		histogram_samples(t, &cells[i], H_CHECK, "check_duration_seconds", label);
	}
}

static void check_latencies(struct text *t, const struct metrics_block *b, const struct metrics_names *names)
{
	family(t, "check_duration_seconds", "histogram",
	       "Time a check took: stage smtp, in the dialogue (DNS answers included); stage content, on the "
	       "whole message in the scanner.");
	check_stage(t, b->smtp_check_latency, METRICS_SMTP_CHECKS, "smtp", names->smtp_checks, names->n_smtp_checks);
	check_stage(t, b->check_latency, METRICS_CHECKS, "content", names->checks, names->n_checks);
}

size_t metrics_text(const struct metrics_block *b, const struct metrics_names *names, uint64_t now, char *out,
		    size_t size)
{
	struct text t = { out, size, 0, size == 0 };
	size_t n = names->n_listeners < METRICS_LISTENERS ? names->n_listeners : METRICS_LISTENERS;
	sessions(&t, b, names->listeners, n);
	counters(&t, b);
	deliveries(&t, b);
	queue_gauges(&t, b, now);
	histogram(&t, b, H_SPOOL_COMMIT, "spool_commit_seconds", "Time to make an accepted message durable.");
	histogram(&t, b, H_DELIVERY_LATENCY, "delivery_latency_seconds",
		  "From the end of data to a 2xx from the next hop, per recipient.");
	check_latencies(&t, b, names);
	return t.overflow ? 0 : t.len;
}
