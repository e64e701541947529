/*
 * rbldnsd "dnset" zone files: domain-name blocklists (RHSBL) kept locally,
 * like zone.h for addresses. Lines (rbldnsd(8)):
 *   example.com          the name itself
 *   *.example.com        every subdomain, not the name itself
 *   .example.com         the name and every subdomain
 *   !sub.example.com     exclusion (also "!*.x" and "!.x")
 *   each optionally followed by  :A:TXT  or  :A  or  TXT
 *   :127.0.0.2:text      the default value; # ; comments; $ directives
 * The most specific matching entry decides (an exact name before any
 * wildcard, a longer suffix before a shorter one). Names compare without
 * regard to ASCII case; a trailing dot is ignored. Bad lines are counted
 * and skipped. Names live in one arena: little memory per entry; lookups
 * are binary searches, one per label of the name. Pure: no I/O.
 */
#ifndef MW_SCAN_DNSET_H
#define MW_SCAN_DNSET_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/zone.h"

struct dnset;

struct dnset *dnset_parse(const char *text, size_t len, struct zone_stats *st);
void dnset_free(struct dnset *d);

/* Listed? *a and *txt as for zone_lookup (owned by the set). */
bool dnset_lookup(const struct dnset *d, const char *name, const char **a, const char **txt);

size_t dnset_entries(const struct dnset *d);
size_t dnset_memory(const struct dnset *d);

#endif
