/*
 * See symbol_counts.h.
 */
#include "queue/symbol_counts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/fnv.h"

#define SLOTS (SYMBOL_COUNTS_MAX * 2)

void symbol_counts_add(struct symbol_counts *s, const char *name)
{
	char key[sizeof(s->slot[0].name)];
	snprintf(key, sizeof(key), "%s", name);
	if (!key[0])
		return;
	for (char *p = key; *p; p++)  /* a label value needs no escaping then */
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			*p = '_';
	size_t i = fnv64_mix(FNV64_OFFSET, key, strlen(key)) % SLOTS;
	for (size_t probe = 0; probe < SLOTS; probe++, i = (i + 1) % SLOTS) {
		struct symbol_count *c = &s->slot[i];
		if (c->name[0] && strcmp(c->name, key) == 0) {
			c->hits++;
			return;
		}
		if (!c->name[0]) {
			if (s->used >= SYMBOL_COUNTS_MAX)
				break;
			memcpy(c->name, key, sizeof(key));
			c->hits = 1;
			s->used++;
			return;
		}
	}
	s->other++;
}

static int more_frequent(const struct symbol_count *a, const struct symbol_count *b)
{
	if (a->hits != b->hits)
		return a->hits > b->hits;
	return strcmp(a->name, b->name) < 0;
}

size_t symbol_counts_top(const struct symbol_counts *s, struct symbol_count *out, size_t n)
{
	size_t k = 0;
	/* Insertion into the short sorted out[]: n is small (the top 25). */
	for (size_t i = 0; i < SLOTS; i++) {
		const struct symbol_count *c = &s->slot[i];
		if (!c->name[0] || (k == n && !more_frequent(c, &out[n - 1])))
			continue;
		size_t at = k < n ? k++ : n - 1;
		while (at > 0 && more_frequent(c, &out[at - 1])) {
			out[at] = out[at - 1];
			at--;
		}
		out[at] = *c;
	}
	return k;
}
