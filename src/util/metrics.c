/*
 * The shared counter block; see metrics.h for the contract.
 */
#include "util/metrics.h"

#include <string.h>
#include <sys/mman.h>
#include <time.h>

static struct metrics_block local_block;
struct metrics_block *metrics_block_in_use = &local_block;

#define MS 1000ULL
#define S (1000ULL * MS)

/* Upper bounds per histogram, ascending; the last cell is +Inf. A spool
 * commit is an fsync and a rename: milliseconds on a good disk, seconds
 * on a sick one. Delivery goes from a loopback hop (milliseconds) to a
 * retried one (hours; the arrival time is kept in whole seconds, so the
 * small buckets only see mail delivered in the second it arrived). */
static const uint64_t bounds[M_HISTOGRAMS + 1][METRICS_BUCKETS - 1] = {
	[H_SPOOL_COMMIT] = { 1 * MS, 2 * MS, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS, 1 * S,
			     5 * S },
	[H_DELIVERY_LATENCY] = { 1 * S, 2 * S, 5 * S, 10 * S, 30 * S, 60 * S, 300 * S, 900 * S, 3600 * S, 4 * 3600 * S,
				 24 * 3600 * S },
	/* A header check takes microseconds, the rules a few milliseconds,
	 * clamd on a big attachment seconds. */
	[H_CHECK] = { 50, 100, 250, 500, 1 * MS, 2500, 5 * MS, 10 * MS, 50 * MS, 250 * MS, 1 * S },
};

int metrics_map(void)
{
	struct metrics_block *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return -1;
	*b = local_block;  /* mmap gave zeros; keep what was counted before */
	metrics_block_in_use = b;
	return 0;
}

void metrics_tls(bool outbound, const char *version)
{
	int v = !version ? 2 : !strcmp(version, "TLSv1.2") ? 0 : !strcmp(version, "TLSv1.3") ? 1 : 2;
	metrics_count((enum metric_counter)((outbound ? M_TLS_OUT_12 : M_TLS_IN_12) + v));
}

void metrics_session(size_t listener, int delta)
{
	size_t i = listener < METRICS_LISTENERS ? listener : METRICS_LISTENERS - 1;
	struct metrics_block *b = metrics_cells();
	__atomic_fetch_add(&b->sessions_now[i], (uint64_t)(int64_t)delta, __ATOMIC_RELAXED);
	if (delta > 0)
		__atomic_fetch_add(&b->sessions_total[i], 1, __ATOMIC_RELAXED);
}

size_t metrics_bucket_of(enum metric_histogram h, uint64_t us)
{
	size_t b = 0;
	while (b < METRICS_BUCKETS - 1 && us > bounds[h][b])
		b++;
	return b;
}

uint64_t metrics_bucket_bound_us(enum metric_histogram h, size_t b)
{
	return b < METRICS_BUCKETS - 1 ? bounds[h][b] : UINT64_MAX;
}

static void observe(struct metrics_histogram_cells *c, enum metric_histogram h, uint64_t us)
{
	__atomic_fetch_add(&c->bucket[metrics_bucket_of(h, us)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->sum_us, us, __ATOMIC_RELAXED);
}

void metrics_observe_us(enum metric_histogram h, uint64_t us)
{
	observe(&metrics_cells()->histogram[h], h, us);
}

void metrics_check_us(size_t check, uint64_t us)
{
	if (check < METRICS_CHECKS)
		observe(&metrics_cells()->check_latency[check], H_CHECK, us);
}

void metrics_smtp_check_us(size_t check, uint64_t us)
{
	if (check < METRICS_SMTP_CHECKS)
		observe(&metrics_cells()->smtp_check_latency[check], H_CHECK, us);
}

void metrics_delivery(int code, uint64_t arrival, enum metric_hop hop, bool retry)
{
	enum metric_outcome o = code >= 200 && code < 300 ? OUTCOME_SENT : code >= 500 ? OUTCOME_BOUNCED
										 : OUTCOME_DEFERRED;
	__atomic_fetch_add(&metrics_cells()->deliveries[hop < METRIC_HOPS ? hop : HOP_MX][o], 1, __ATOMIC_RELAXED);
	if (retry)
		metrics_count(M_DELIVERY_RETRIES);
	if (o == OUTCOME_SENT) {
		uint64_t now = (uint64_t)time(NULL);
		metrics_observe_us(H_DELIVERY_LATENCY, now > arrival ? (now - arrival) * S : 0);
	}
}

void metrics_queue_restarted(void)
{
	for (int g = G_QUEUE_READY; g <= G_QUEUE_OLDEST_ARRIVAL; g++)
		metrics_gauge_set((enum metric_gauge)g, 0);
}

uint64_t metrics_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * S + (uint64_t)ts.tv_nsec / 1000;
}
