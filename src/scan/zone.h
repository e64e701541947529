/*
 * Local copies of DNS blocklists (SCAN-3): rbldnsd zone files of type
 * ip4set (and ip4tset, its subset), parsed into an ipset so that a client
 * address is checked without sending it to anyone.
 *
 * Accepted lines (rbldnsd(8)):
 *   1.2.3.4  1.2.3.0/24  1.2.3  (= 1.2.3.0/24)  1.2  (= /16)
 *   1.2.3.4-1.2.3.10  1.2.3.4-10       ranges
 *   !1.2.3.4                          exclusion (not listed)
 *   each optionally followed by  :A:TXT  or  :A  or  TXT (per-entry value)
 *   :127.0.0.2:Listed, see $         the default value
 *   # or ; comments, $SOA/$NS/$TTL/$... directives (ignored)
 * Host bits set beyond a prefix are cleared, as rbldnsd does. A line that
 * does not parse is counted and skipped, never fatal: a bad line in a
 * 10-million-line file must not open the gate. In TXT, "$" stands for the
 * address looked up.
 *
 * Pure: the caller reads the file; no I/O here.
 */
#ifndef MW_SCAN_ZONE_H
#define MW_SCAN_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ZONE_LINE_MAX 4096

struct zone;

struct zone_stats {
	size_t lines, entries, bad_lines;
	size_t first_bad_line;     /* 1-based, 0 if none */
};

struct zone *zone_parse(const char *text, size_t len, struct zone_stats *st);
void zone_free(struct zone *z);

/* Listed? Then *a is the A value ("127.0.0.2") and *txt the text (with
 * "$" not yet substituted), both owned by the zone. */
bool zone_lookup(const struct zone *z, const struct sockaddr *sa, const char **a, const char **txt);
bool zone_lookup4(const struct zone *z, uint32_t ip, const char **a, const char **txt);

size_t zone_memory(const struct zone *z);
size_t zone_ranges(const struct zone *z);

#endif
