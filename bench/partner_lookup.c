/*
 * Benchmark (not a test): what known partners (issue 13, SCAN-11) cost.
 * Learns N generated pairs into a partners store (SQLite, in batches as
 * the queue writes them), loads the store into the in-memory cache as an
 * smtpd does at start, then times lookups as on the RCPT path: half
 * known pairs, half strangers. Prints learn and load time, the cache's
 * memory, resident and peak memory, and lookups per second.
 *
 *   build/bench_partner_lookup [pairs] [lookups] [store.db]
 *
 * The store is kept when a path is given (to load 1M pairs into a test
 * gateway, see bench/README.md); a temporary one is removed otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state/partner_cache.h"
#include "state/partners.h"

#define LEARN_BATCH 10000
#define INTERNALS 1000   /* internal mailboxes the pairs spread over */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	size_t n = strlen(key);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && sscanf(line + n, " %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* Pair i: user(i % INTERNALS)@example.org and peer(i)@d(i / 4).test, so
 * about four learned addresses share an external domain. */
static void pair_text(long i, char *in, char *ex, size_t n)
{
	snprintf(in, n, "user%ld@example.org", i % INTERNALS);
	snprintf(ex, n, "peer%ld@d%ld.test", i, i / 4);
}

static int learn(struct partners *p, long pairs)
{
	static char in[LEARN_BATCH][64], ex[LEARN_BATCH][64];
	static struct partner_pair batch[LEARN_BATCH];
	for (long done = 0; done < pairs;) {
		size_t n = 0;
		for (; n < LEARN_BATCH && done < pairs; n++, done++) {
			pair_text(done, in[n], ex[n], sizeof(in[n]));
			batch[n] = (struct partner_pair){ in[n], ex[n] };
		}
		if (!partners_learn(p, batch, n, time(NULL)))
			return -1;
	}
	return 0;
}

static bool load_row(const struct partner_row *row, void *arg)
{
	partner_cache_add(arg, row->internal, row->external);
	return true;
}

static void time_lookups(const struct partner_cache *c, long pairs, long lookups)
{
	char in[64], ex[64];
	long hits = 0;
	unsigned seed = 1;
	double t0 = now();
	for (long i = 0; i < lookups; i++) {
		long k = (long)(rand_r(&seed) % (unsigned)pairs);
		pair_text(k, in, ex, sizeof(in));
		if (i & 1)
			snprintf(ex, sizeof(ex), "peer%ld@stranger.test", k);
		hits += partner_cache_has(c, in, ex);
	}
	double t = now() - t0;
	printf("lookups: %ld in %.2f s: %.0f per second (%ld partners, %ld strangers)\n", lookups, t,
	       (double)lookups / t, hits, lookups - hits);
	if (hits != (lookups + 1) / 2)
		printf("WRONG: expected %ld partners\n", (lookups + 1) / 2);
}

static void remove_store(const char *path)
{
	char side[96];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 1000000;
	long lookups = argc > 2 ? atol(argv[2]) : 10000000;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "/tmp/mw-bench-partners-%d.db", (int)getpid());
	const char *path = argc > 3 ? argv[3] : tmp;
	if (pairs <= 0 || lookups <= 0) {
		fprintf(stderr, "usage: %s [pairs] [lookups] [store.db]\n", argv[0]);
		return 2;
	}
	struct partners *p = partners_open(path);
	if (!p)
		return 1;
	double t0 = now();
	if (learn(p, pairs) < 0)
		return 1;
	printf("learned %ld pairs into %s in %.2f s\n", pairs, path, now() - t0);
	struct partner_cache *c = partner_cache_new((uint64_t)time(NULL) * 2654435761u);
	t0 = now();
	if (!partners_each(p, load_row, c))
		return 1;
	printf("loaded the cache in %.2f s: %zu keys, %.1f MiB; resident %ld KiB, peak %ld KiB\n", now() - t0,
	       partner_cache_keys(c), (double)partner_cache_bytes(c) / 1048576.0, status_kib("VmRSS:"),
	       status_kib("VmHWM:"));
	time_lookups(c, pairs, lookups);
	partner_cache_free(c);
	partners_close(p);
	if (argc <= 3)
		remove_store(tmp);
	return 0;
}
