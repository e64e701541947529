/*
 * Table-driven mappings of fixed keys: see mapping.h.
 */
#include "config/mapping.h"

#include <stdio.h>
#include <string.h>

#include <libfyaml.h>

#include "config/loader.h"

void mapping_each(struct loader *ld, struct fy_node *v, const char *name, int kline,
		  void (*each)(struct loader *ld, const char *k, size_t klen, struct fy_node *val,
			       const char *kname, int kl, void *ctx),
		  void *ctx)
{
	struct fy_node_pair *p;
	void *it = NULL;

	if (!v || !fy_node_is_mapping(v))
		return;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		char kname[LOADER_NAME_SIZE];
		const char *k;
		size_t klen;
		int kl;

		if (!loader_key(ld, p, name, kline, &k, &klen, &kl))
			continue;
		loader_key_name(kname, sizeof(kname), name, k, klen);
		each(ld, k, klen, fy_node_pair_value(p), kname, kl, ctx);
	}
}

const struct mapping_key *mapping_find(const struct mapping_key *keys, size_t n_keys, const char *k, size_t klen)
{
	for (size_t i = 0; i < n_keys; i++)
		if (loader_text_is(k, klen, keys[i].key))
			return &keys[i];
	return NULL;
}

unsigned mapping_bit(const struct mapping_key *keys, size_t n_keys, const char *key)
{
	const struct mapping_key *e = mapping_find(keys, n_keys, key, strlen(key));
	return e ? 1u << (e - keys) : 0;
}

struct mapping_walk {
	const struct mapping_key *keys;
	size_t n_keys;
	void *target;
	unsigned seen;
};

/* "unknown key (a, b, c)": the table's keys in its order. */
static void unknown_key(struct loader *ld, const struct mapping_walk *w, const char *kname, int kl)
{
	char list[512];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; i < w->n_keys && used < sizeof(list); i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", w->keys[i].key);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	loader_err(ld, kl, kname, "unknown key (%s)", list);
}

static void load_key(struct loader *ld, const char *k, size_t klen, struct fy_node *val, const char *kname, int kl,
		     void *ctx)
{
	struct mapping_walk *w = ctx;
	const struct mapping_key *e = mapping_find(w->keys, w->n_keys, k, klen);

	if (!e) {
		unknown_key(ld, w, kname, kl);
		return;
	}
	w->seen |= 1u << (e - w->keys);
	e->load(ld, val, kname, kl, (char *)w->target + e->offset);
}

unsigned mapping_load(struct loader *ld, struct fy_node *v, const char *name, int kline,
		      const struct mapping_key *keys, size_t n_keys, void *target)
{
	struct mapping_walk w = { keys, n_keys < MAPPING_KEYS_MAX ? n_keys : MAPPING_KEYS_MAX, target, 0 };

	mapping_each(ld, v, name, kline, load_key, &w);
	return w.seen;
}
