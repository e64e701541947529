/*
 * Benchmark (not a test): build a 1-million-entry rbldnsd ip4set zone
 * from text, then time random lookups. Prints parse time, the zone's
 * memory, the process's resident memory and lookups per second.
 *
 *   build/bench_zone_lookup [entries] [lookups]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/zone.h"

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

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* xorshift: reproducible and fast */
static uint32_t rnd_state = 2463534242u;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

int main(int argc, char **argv)
{
	size_t entries = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	size_t lookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000;
	/* 90% single addresses, 10% /24 networks, as in real lists. */
	size_t cap = entries * 24 + 64, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text, cap, ":127.0.0.2:Listed, see https://bl.example/?$\n");
	for (size_t i = 0; i < entries; i++) {
		uint32_t a = rnd();
		if (i % 10 == 9)
			len += (size_t)snprintf(text + len, cap - len, "%u.%u.%u.0/24\n", a >> 24, (a >> 16) & 255,
						(a >> 8) & 255);
		else
			len += (size_t)snprintf(text + len, cap - len, "%u.%u.%u.%u\n", a >> 24, (a >> 16) & 255,
						(a >> 8) & 255, a & 255);
	}
	long rss_before = rss_kib();
	double t0 = now();
	struct zone_stats st;
	struct zone *z = zone_parse(text, len, &st);
	double t1 = now();
	free(text);
	long rss_after = rss_kib();
	size_t hits = 0;
	double t2 = now();
	for (size_t i = 0; i < lookups; i++)
		hits += zone_lookup4(z, rnd(), NULL, NULL);
	double t3 = now();
	printf("entries=%zu lines=%zu ranges=%zu bad_lines=%zu\n", entries, st.lines, zone_ranges(z), st.bad_lines);
	printf("parse+build: %.2f s (%.0f lines/s)\n", t1 - t0, (double)st.lines / (t1 - t0));
	printf("zone memory: %.1f MiB (%.1f bytes per range)\n", (double)zone_memory(z) / (1 << 20),
	       (double)zone_memory(z) / (double)zone_ranges(z));
	printf("process RSS: %ld KiB before parse (text held), %ld KiB after (text freed)\n", rss_before, rss_after);
	printf("peak RSS (VmHWM, includes the build's temporary arrays): %ld KiB\n", status_kib("VmHWM:"));
	printf("lookups: %zu in %.2f s = %.2f million/s (hits %zu)\n", lookups, t3 - t2,
	       (double)lookups / (t3 - t2) / 1e6, hits);
	zone_free(z);
	return 0;
}
