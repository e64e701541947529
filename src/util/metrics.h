/*
 * The gateway's counters for Prometheus (issue 15, "Metrics").
 *
 * One small block of plain uint64 cells, mapped shared and anonymous by
 * the master before it forks any child (metrics_map), so that every
 * process — each smtpd, the scanner, the queue, restarted or reloaded
 * ones too — adds into the same cells. The layout is fixed at compile
 * time (the enums below), so no process ever allocates, locks or does I/O
 * to count: a count is one relaxed atomic add on the hot path, and a
 * reader (the queue's HTTP endpoint, queue/metrics_http.h) sees every
 * cell tear-free, each on its own (a scrape is not a snapshot across
 * cells; Prometheus does not need one).
 *
 * Until metrics_map runs (unit tests, the subcommands) the cells are a
 * process-local block, so counting never needs a check. A compromised
 * child can at worst write wrong numbers into the block: it holds no
 * pointer that the reader follows (every cell is a number; names and
 * labels live in the reader's own table, util/metrics_text.c).
 */
#ifndef MW_UTIL_METRICS_H
#define MW_UTIL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sessions are counted per listener: its index in the configuration's
 * listeners list; later ones share the last cell. */
#define METRICS_LISTENERS 16

/* Monotonic counters (Prometheus "counter"). */
enum metric_counter {
	M_MESSAGES_RECEIVED,          /* an end of data reached the queue */
	M_MESSAGES_ACCEPTED,          /* committed to queue/ */
	M_MESSAGES_QUARANTINED,
	M_MESSAGES_DISCARDED,
	M_REFUSED_SCAN,               /* the score said refuse */
	M_REFUSED_POLICY,             /* a hard verdict (malware, a policy check) */
	M_REFUSED_SIZE,               /* over limits.message_size */
	M_REFUSED_PROTOCOL,           /* NUL, bare CR/LF in the data */
	M_DELIVERY_RETRIES,           /* attempts of a recipient after its message's first */
	M_BOUNCES,                    /* recipients failed and reported to the sender */
	M_TLS_IN_12,
	M_TLS_IN_13,
	M_TLS_IN_OTHER,
	M_TLS_OUT_12,                 /* handshakes of the SMTP/LMTP client */
	M_TLS_OUT_13,
	M_TLS_OUT_OTHER,
	M_AUTH_OK,
	M_AUTH_FAILED,
	M_VERDICT_ACCEPT,
	M_VERDICT_TAG,
	M_VERDICT_QUARANTINE,
	M_VERDICT_REFUSE,
	M_VERDICT_DISCARD,
	M_COUNTERS
};

/* Values that go up and down (Prometheus "gauge"). Cells are uint64;
 * a gauge is added to with two's-complement, read as int64. */
enum metric_gauge {
	G_QUEUE_READY,
	G_QUEUE_WAITING,
	G_QUEUE_ACTIVE,
	G_QUEUE_SETTLING,
	G_QUEUE_HELD,
	G_QUEUE_OLDEST_ARRIVAL,       /* wall seconds of the oldest queued message; 0: none */
	M_GAUGES
};

/* Histograms: fixed buckets (metrics_text.c names their bounds). */
enum metric_histogram {
	H_SPOOL_COMMIT,               /* fsync + rename of an accepted message */
	H_DELIVERY_LATENCY,           /* end of data to a 2xx from the next hop */
	M_HISTOGRAMS,
	H_CHECK = M_HISTOGRAMS,       /* a content check's run (bounds only: cells in check_latency[]) */
};

/* Deliveries per recipient and attempt, by the class of the next hop
 * (queue/deliver.h) and the outcome. */
enum metric_hop { HOP_MX, HOP_SMART_HOST, HOP_ROUTE_SMTP, HOP_LMTP, HOP_MAILDIR, METRIC_HOPS };
enum metric_outcome {
	OUTCOME_SENT,                 /* a 2xx */
	OUTCOME_DEFERRED,             /* a 4xx, or no answer */
	OUTCOME_BOUNCED,              /* a 5xx */
	METRIC_OUTCOMES
};

/* Content checks timed one by one (content/checks.c holds fewer), and
 * the checks smtpd runs in the dialogue (scan/checks.c). */
#define METRICS_CHECKS 24
#define METRICS_SMTP_CHECKS 16
#define METRICS_BUCKETS 12            /* the last one is +Inf */

struct metrics_histogram_cells {
	uint64_t bucket[METRICS_BUCKETS]; /* per bucket, not cumulative */
	uint64_t sum_us;
};

struct metrics_block {
	uint64_t counter[M_COUNTERS];
	uint64_t gauge[M_GAUGES];
	uint64_t sessions_now[METRICS_LISTENERS];
	uint64_t sessions_total[METRICS_LISTENERS];
	struct metrics_histogram_cells histogram[M_HISTOGRAMS];
	uint64_t deliveries[METRIC_HOPS][METRIC_OUTCOMES];
	struct metrics_histogram_cells check_latency[METRICS_CHECKS];  /* by content check index */
	struct metrics_histogram_cells smtp_check_latency[METRICS_SMTP_CHECKS];  /* by smtpd check index */
};

/* Master, before the first fork: share the block with every child to
 * come. Returns 0, or -1 (errno) with counting left process-local. */
int metrics_map(void);

static inline struct metrics_block *metrics_cells(void)
{
	extern struct metrics_block *metrics_block_in_use;
	return metrics_block_in_use;
}

static inline void metrics_count(enum metric_counter m)
{
	__atomic_fetch_add(&metrics_cells()->counter[m], 1, __ATOMIC_RELAXED);
}

static inline void metrics_gauge_add(enum metric_gauge g, int64_t delta)
{
	__atomic_fetch_add(&metrics_cells()->gauge[g], (uint64_t)delta, __ATOMIC_RELAXED);
}

static inline void metrics_gauge_set(enum metric_gauge g, int64_t value)
{
	__atomic_store_n(&metrics_cells()->gauge[g], (uint64_t)value, __ATOMIC_RELAXED);
}

/* A TLS handshake completed, inbound (smtpd) or outbound (the
 * client), with the version OpenSSL names ("TLSv1.3"; NULL: unknown). */
void metrics_tls(bool outbound, const char *version);

/* A session opened (+1) or closed (-1) on listener index i. */
void metrics_session(size_t listener, int delta);

/* A delivery attempt's reply code (2xx sent, 5xx bounced, else
 * deferred) for one recipient of a message that arrived at arrival (wall
 * seconds) over a next hop of class hop; retry: not the message's first
 * attempt. A 2xx also goes into the delivery latency histogram. */
void metrics_delivery(int code, uint64_t arrival, enum metric_hop hop, bool retry);

/* Content check index check ran for us microseconds (the scanner). */
void metrics_check_us(size_t check, uint64_t us);
/* smtpd's check index check took us microseconds, DNS answers included
 * (from its start to its result, for one stage of one session). */
void metrics_smtp_check_us(size_t check, uint64_t us);

/* A (re)started queue counts its messages anew: its gauges start at 0. */
void metrics_queue_restarted(void);

/* One observation, in microseconds. */
void metrics_observe_us(enum metric_histogram h, uint64_t us);

/* Microseconds on the monotonic clock, for latencies. */
uint64_t metrics_now_us(void);

/* The bucket an observation of us microseconds falls into. Pure. */
size_t metrics_bucket_of(enum metric_histogram h, uint64_t us);

/* Upper bound of bucket b in microseconds (UINT64_MAX for +Inf). Pure. */
uint64_t metrics_bucket_bound_us(enum metric_histogram h, size_t b);

#endif
