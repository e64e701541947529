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
static const uint64_t bounds[M_HISTOGRAMS][METRICS_BUCKETS - 1] = {
	[H_SPOOL_COMMIT] = { 1 * MS, 2 * MS, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS, 1 * S,
			     5 * S },
	[H_DELIVERY_LATENCY] = { 1 * S, 2 * S, 5 * S, 10 * S, 30 * S, 60 * S, 300 * S, 900 * S, 3600 * S, 4 * 3600 * S,
				 24 * 3600 * S },
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

void metrics_observe_us(enum metric_histogram h, uint64_t us)
{
	struct metrics_histogram_cells *c = &metrics_cells()->histogram[h];
	__atomic_fetch_add(&c->bucket[metrics_bucket_of(h, us)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->sum_us, us, __ATOMIC_RELAXED);
}

void metrics_delivery(int code, uint64_t arrival)
{
	if (code >= 200 && code < 300) {
		metrics_count(M_DELIVERIES_SENT);
		uint64_t now = (uint64_t)time(NULL);
		metrics_observe_us(H_DELIVERY_LATENCY, now > arrival ? (now - arrival) * S : 0);
	} else {
		metrics_count(code >= 500 ? M_DELIVERIES_BOUNCED : M_DELIVERIES_DEFERRED);
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
