/*
 * FNV-1a, the one non-cryptographic hash of the project: hash tables
 * (rate limits, URIs, the ready queue), Bayes tokens, file-stamp digests.
 * Never for anything an attacker gains by colliding beyond a slower
 * table probe: the tables that take network input bound their probing.
 *
 * The Bayes store keeps 64-bit token hashes on disk, so fnv64_lower must
 * stay what it is: a change invalidates every trained database.
 */
#ifndef MW_UTIL_FNV_H
#define MW_UTIL_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV64_OFFSET 1469598103934665603ull
#define FNV64_PRIME 1099511628211ull
#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME 16777619u

/* h extended by the n bytes at p; start from FNV64_OFFSET. */
static inline uint64_t fnv64_mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV64_PRIME;
	return h;
}

/* The same over s[0..n) with ASCII letters lowered (case-blind keys). */
static inline uint64_t fnv64_mix_lower(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * FNV64_PRIME;
	}
	return h;
}

/* 32 bits over a NUL-terminated string (table slots). */
static inline uint32_t fnv32_str(const char *s)
{
	uint32_t h = FNV32_OFFSET;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV32_PRIME;
	return h;
}

#endif
