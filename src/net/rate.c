/*
 * Events per client address in a fixed window: see rate.h.
 */
#include "net/rate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/fnv.h"

#define RATE_PROBES 8   /* slots looked at per address */

struct rate_slot {
	char client[64];
	time_t start;       /* when the current window began */
	unsigned count;     /* events in it */
};

struct rate_table {
	struct rate_slot slot[RATE_SLOTS];
};

struct rate_table *rate_new(void)
{
	return xcalloc(1, sizeof(struct rate_table));
}

void rate_free(struct rate_table *t)
{
	free(t);
}

static struct rate_slot *slot_for(struct rate_table *t, const char *client, time_t now)
{
	uint32_t h = fnv32_str(client);
	struct rate_slot *reuse = NULL;
	for (unsigned i = 0; i < RATE_PROBES; i++) {
		struct rate_slot *s = &t->slot[(h + i) % RATE_SLOTS];
		if (strcmp(s->client, client) == 0)
			return s;
		if (!reuse || (reuse->client[0] && (!s->client[0] || s->start < reuse->start)))
			reuse = s;
	}
	snprintf(reuse->client, sizeof(reuse->client), "%s", client);
	reuse->start = now;
	reuse->count = 0;
	return reuse;
}

bool rate_allow(struct rate_table *t, const char *client, time_t now, unsigned limit, unsigned window)
{
	if (limit == 0 || !client[0])
		return true;
	struct rate_slot *s = slot_for(t, client, now);
	if (now - s->start >= (time_t)window) {
		s->start = now;
		s->count = 0;
	}
	if (s->count < limit) {
		s->count++;
		return true;
	}
	return false;
}
