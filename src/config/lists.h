/*
 * Internal to src/config: the top-level keys that hold lists or mappings
 * of entries, each with its own parser. A user's value replaces the
 * default's whole collection (the embedded default's listener must not
 * linger beside the ones the administrator wrote).
 */
#ifndef MW_CONFIG_LISTS_H
#define MW_CONFIG_LISTS_H

#include "config/loader.h"

struct lists_entry {
	const char *key;
	/* Parse v (the value of key, whose line is kline) into ld->cfg,
	 * replacing what was there; report every problem. */
	void (*load)(struct loader *ld, struct fy_node *v, const char *name, int kline);
};

/* The entry for a top-level key (len bytes), or NULL. */
const struct lists_entry *lists_find(const char *key, size_t len);

/* Every entry (*n of them): the man page's key list (docs/man/). */
const struct lists_entry *lists_all(size_t *n);

void lists_free_listeners(struct listener_cfg *l, size_t n);
void lists_free_domains(char **d, size_t n);
void lists_free_certificates(struct tls_cert_cfg *c, size_t n);

#endif
