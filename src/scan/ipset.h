/*
 * A set of IPv4 and IPv6 address ranges with a small value per range, for
 * the scanner's allow/deny lists and rbldnsd zones (SCAN-3): millions of
 * entries in little memory and O(log n) lookups.
 *
 * Built once (ipset_add_*, then ipset_build) into sorted arrays of
 * disjoint ranges; a lookup is one binary search. Overlapping input is
 * resolved at build time: an address takes the value of the narrowest
 * range containing it (on a tie, the one added last), and a range added
 * with IPSET_EXCLUDE punches a hole (rbldnsd "!net"). Read-only after
 * ipset_build; no I/O.
 */
#ifndef MW_SCAN_IPSET_H
#define MW_SCAN_IPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define IPSET_EXCLUDE UINT32_MAX

struct ipset;

struct ipset *ipset_new(void);
void ipset_free(struct ipset *s);

/* Add [lo, hi] (host byte order for IPv4; 16 network-order bytes for
 * IPv6). value is the caller's (e.g. an index into its text table). */
void ipset_add4(struct ipset *s, uint32_t lo, uint32_t hi, uint32_t value);
void ipset_add6(struct ipset *s, const unsigned char lo[16], const unsigned char hi[16], uint32_t value);

/* Resolve overlaps and sort; afterwards only lookups. */
void ipset_build(struct ipset *s);

/* The value for an address (sockaddr_in / sockaddr_in6; IPv4-mapped IPv6
 * is looked up as IPv4). false: not in the set. */
bool ipset_lookup(const struct ipset *s, const struct sockaddr *sa, uint32_t *value);
bool ipset_lookup4(const struct ipset *s, uint32_t ip, uint32_t *value);

/* Disjoint ranges after the build, and bytes held. */
size_t ipset_ranges(const struct ipset *s);
size_t ipset_memory(const struct ipset *s);

#endif
