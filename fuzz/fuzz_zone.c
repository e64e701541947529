/*
 * libFuzzer target: rbldnsd zone files as the DNSBL file check reads them
 * (issue 14): the first byte picks the parser - ip4set/ip4tset
 * (zone_parse(), src/scan/zone.c; ip4tset is the same syntax with one
 * value) or dnset (dnset_parse(), src/scan/dnset.c) - the rest is the
 * file. The parsed set is then looked up with addresses and names taken
 * from the file. Contract checks: the line counts add up (entries and bad
 * lines within the lines, the first bad line set exactly when a line was
 * bad and within the lines), a hit has an A value that is a dotted IPv4
 * address (what the zone said, or the 127.0.0.2 default).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "scan/dnset.h"
#include "scan/zone.h"

static void check_stats(const struct zone_stats *st, size_t size)
{
	CHECK(st->bad_lines <= st->lines && st->lines <= size + 1);
	CHECK((st->first_bad_line != 0) == (st->bad_lines != 0));
	CHECK(st->first_bad_line <= st->lines);
}

static void check_hit(bool hit, const char *a, const char *txt)
{
	if (!hit)
		return;
	struct in_addr in;
	CHECK(a && inet_pton(AF_INET, a, &in) == 1);
	(void)txt;
}

/* Every 4-byte window of the text as an address, every line as a name. */
static void probe_zone(const struct zone *z, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 4 <= n && i < 256; i++) {
		const char *a = NULL, *txt = NULL;
		uint32_t ip = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
		bool hit = zone_lookup4(z, ip, &a, &txt);  /* before a is read: argument order is unspecified */
		check_hit(hit, a, txt);
	}
}

static void probe_dnset(const struct dnset *d, const char *text, size_t n)
{
	char name[256];
	for (size_t i = 0, probes = 0; i < n && probes < 64; probes++) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t len = (nl ? (size_t)(nl - text) : n) - i;
		snprintf(name, sizeof(name), "%.*s", (int)(len < 255 ? len : 255), text + i);
		name[strcspn(name, " \t\r:")] = '\0';
		const char *a = NULL, *txt = NULL;
		bool hit = dnset_lookup(d, name[0] == '.' ? name + 1 : name, &a, &txt);
		check_hit(hit, a, txt);
		i += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_quiet_logs();
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct zone_stats st = { 0 };
	if (data[0] & 1) {
		struct dnset *d = dnset_parse(text, len, &st);
		check_stats(&st, len);
		if (d)
			probe_dnset(d, text, len);
		dnset_free(d);
	} else {
		struct zone *z = zone_parse(text, len, &st);
		check_stats(&st, len);
		if (z)
			probe_zone(z, data + 1, len);
		zone_free(z);
	}
	return 0;
}
