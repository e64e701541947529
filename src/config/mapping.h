/*
 * Table-driven parsing of a YAML mapping of fixed keys: a loader names
 * its keys once, each with the handler that parses its value, and
 * mapping_load() walks the mapping, hands each key to its handler and
 * reports any other key as "unknown key (a, b, c)", the list taken from
 * the table itself (so the message cannot drift from the keys accepted).
 *
 * For mappings whose keys are data (check names, DNSBL codes) rather
 * than a fixed set, mapping_each() is the bare walk.
 *
 * Errors are reported through the loader (loader.h) as
 * "file:line: key: problem", and the walk goes on, so one run reports
 * every problem. Runs in the master before the privilege drop; no I/O.
 */
#ifndef MW_CONFIG_MAPPING_H
#define MW_CONFIG_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

struct fy_node;
struct loader;

/* A mapping_load() table holds at most this many keys (the bits of its
 * result). */
#define MAPPING_KEYS_MAX 32

/* One key of a mapping: its handler parses v, the value of the key
 * named name (the dotted name for messages: "scan.clamd.scope") at line
 * kline, into field, which is the loader's target plus offset. */
struct mapping_key {
	const char *key;
	void (*load)(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field);
	size_t offset;
};

/*
 * Walk the mapping v (the value of name, at line kline; a null or
 * non-mapping v is no key at all: callers check the type first with
 * loader_expect()) and call keys[i].load for every key that is
 * keys[i].key; report every other key, and every key that is not a
 * plain name. Returns the keys present, bit i for keys[i] (whether or
 * not the handler accepted the value), for the caller's checks of
 * required keys.
 */
unsigned mapping_load(struct loader *ld, struct fy_node *v, const char *name, int kline,
		      const struct mapping_key *keys, size_t n_keys, void *target);

#define MAPPING_LOAD(ld, v, name, kline, keys, target) \
	mapping_load(ld, v, name, kline, keys, sizeof(keys) / sizeof((keys)[0]), target)

/* Bit of the key named key in a mapping_load() table (0 if none). */
unsigned mapping_bit(const struct mapping_key *keys, size_t n_keys, const char *key);

#define MAPPING_BIT(keys, key) mapping_bit(keys, sizeof(keys) / sizeof((keys)[0]), key)

/* The table's entry for key k (klen bytes), or NULL. */
const struct mapping_key *mapping_find(const struct mapping_key *keys, size_t n_keys, const char *k, size_t klen);

/*
 * Walk the mapping v (as mapping_load) and call each(ld, k, klen, val,
 * kname, kl, ctx) for every key that is a plain name: k, klen the key,
 * val its value, kname "name.key" for messages, kl the key's line.
 */
void mapping_each(struct loader *ld, struct fy_node *v, const char *name, int kline,
		  void (*each)(struct loader *ld, const char *k, size_t klen, struct fy_node *val,
			       const char *kname, int kl, void *ctx),
		  void *ctx);

#endif
