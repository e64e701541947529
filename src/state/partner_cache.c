/*
 * See partner_cache.h. Open addressing with linear probing over a power
 * of two slots; 0 marks an empty slot (a key that hashes to 0 is stored
 * as 1). Runs in smtpd (lookups) and in bench/ tools.
 */
#include "state/partner_cache.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/fnv.h"

#define PARTNER_CACHE_MIN_SLOTS 1024u
#define ANY_INTERNAL "*"

struct partner_cache {
	uint64_t seed;
	uint64_t *slot;
	size_t mask;   /* slots - 1 */
	size_t used;
};

struct partner_cache *partner_cache_new(uint64_t seed)
{
	struct partner_cache *c = xcalloc(1, sizeof(*c));
	c->seed = seed;
	c->slot = xcalloc(PARTNER_CACHE_MIN_SLOTS, sizeof(*c->slot));
	c->mask = PARTNER_CACHE_MIN_SLOTS - 1;
	return c;
}

void partner_cache_free(struct partner_cache *c)
{
	if (!c)
		return;
	free(c->slot);
	free(c);
}

/* The key of (internal, external) where external is an address or
 * "@domain"; the NUL between the two cannot occur in either. */
static uint64_t key_of(const struct partner_cache *c, const char *internal, const char *at, const char *external)
{
	uint64_t h = fnv64_mix(FNV64_OFFSET, &c->seed, sizeof(c->seed));
	h = fnv64_mix_lower(h, internal, strlen(internal));
	h = fnv64_mix(h, "", 1);
	h = fnv64_mix(h, at, strlen(at));
	h = fnv64_mix_lower(h, external, strlen(external));
	return h ? h : 1;
}

static bool find(const struct partner_cache *c, uint64_t key, size_t *at)
{
	size_t i = (size_t)(key ^ (key >> 32)) & c->mask;
	while (c->slot[i] && c->slot[i] != key)
		i = (i + 1) & c->mask;
	*at = i;
	return c->slot[i] == key;
}

static void grow(struct partner_cache *c)
{
	struct partner_cache bigger = *c;
	bigger.mask = c->mask * 2 + 1;
	bigger.slot = xcalloc(bigger.mask + 1, sizeof(*bigger.slot));
	for (size_t i = 0; i <= c->mask; i++) {
		size_t at;
		if (c->slot[i] && !find(&bigger, c->slot[i], &at))
			bigger.slot[at] = c->slot[i];
	}
	free(c->slot);
	c->slot = bigger.slot;
	c->mask = bigger.mask;
}

static void insert(struct partner_cache *c, uint64_t key)
{
	if ((c->used + 1) * 2 > c->mask + 1)
		grow(c);
	size_t at;
	if (!find(c, key, &at)) {
		c->slot[at] = key;
		c->used++;
	}
}

static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at && at[1] ? at + 1 : NULL;
}

void partner_cache_add(struct partner_cache *c, const char *internal, const char *external)
{
	const char *domain = domain_of(external);
	if (!domain || !domain_of(internal))
		return;
	insert(c, key_of(c, internal, "", external));
	insert(c, key_of(c, internal, "@", domain));
}

void partner_cache_allow(struct partner_cache *c, const char *address_or_domain)
{
	if (!*address_or_domain)
		return;
	if (strchr(address_or_domain, '@'))
		insert(c, key_of(c, ANY_INTERNAL, "", address_or_domain));
	else
		insert(c, key_of(c, ANY_INTERNAL, "@", address_or_domain));
}

static bool has(const struct partner_cache *c, uint64_t key)
{
	size_t at;
	return find(c, key, &at);
}

bool partner_cache_has(const struct partner_cache *c, const char *internal, const char *external)
{
	const char *domain = domain_of(external);
	if (!c || !domain)
		return false;
	return has(c, key_of(c, internal, "", external)) || has(c, key_of(c, internal, "@", domain)) ||
	       has(c, key_of(c, ANY_INTERNAL, "", external)) || has(c, key_of(c, ANY_INTERNAL, "@", domain));
}

size_t partner_cache_keys(const struct partner_cache *c)
{
	return c->used;
}

size_t partner_cache_bytes(const struct partner_cache *c)
{
	return sizeof(*c) + (c->mask + 1) * sizeof(*c->slot);
}
