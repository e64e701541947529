/*
 * The in-memory set of known partners (issue 13, SCAN-11) that answers
 * "is this external address a partner of that internal one?" on the RCPT
 * path without I/O: a hash set of 64-bit keyed hashes, one for each
 * (internal, external address) pair and one for each (internal, external
 * domain), plus (any, address) and (any, domain) keys for the static
 * allow list. 8 bytes a key at a load of at most one half: 1 000 000
 * learned pairs (2 000 000 keys) take 32 MiB.
 *
 * The hash is FNV-1a started from a random per-cache seed (the caller
 * passes it), so a remote sender cannot aim an address at a stored key
 * without knowing the seed; a chance collision at 10^6 keys is about one
 * lookup in 10^13 (2^64 / 10^6), and its cost is one stranger let through
 * during an emergency, never a refused partner.
 *
 * Not thread-safe; one owner (the smtpd process) builds and reads it.
 * Allocation only in add/allow (growth by doubling), never in lookups.
 */
#ifndef MW_STATE_PARTNER_CACHE_H
#define MW_STATE_PARTNER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct partner_cache;

struct partner_cache *partner_cache_new(uint64_t seed);
void partner_cache_free(struct partner_cache *c);

/* internal and external are full addresses (case-blind); a pair also
 * makes the external address's domain a partner of internal. Addresses
 * without a domain are ignored. */
void partner_cache_add(struct partner_cache *c, const char *internal, const char *external);

/* The static allow list: an address ("bob@partner.test") or a domain
 * ("partner.test") that counts as a partner of every internal address. */
void partner_cache_allow(struct partner_cache *c, const char *address_or_domain);

/* True when external (its address or its domain) is a partner of internal
 * or on the allow list. No allocation, no I/O. */
bool partner_cache_has(const struct partner_cache *c, const char *internal, const char *external);

size_t partner_cache_keys(const struct partner_cache *c);
size_t partner_cache_bytes(const struct partner_cache *c);

#endif
