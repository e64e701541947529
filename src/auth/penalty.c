/*
 * Failed AUTH attempts per client: see penalty.h.
 */
#include "auth/penalty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

struct penalty {
	char client[64];
	unsigned failures;
	time_t last;
	time_t until;       /* cut off until then */
};

struct penalty_table {
	struct penalty e[PENALTY_ENTRIES];
};

struct penalty_table *penalty_new(void)
{
	return xcalloc(1, sizeof(struct penalty_table));
}

void penalty_free(struct penalty_table *t)
{
	free(t);
}

static struct penalty *find(const struct penalty_table *t, const char *client, bool create, time_t now)
{
	struct penalty *table = (struct penalty *)t->e;
	struct penalty *oldest = &table[0];
	for (size_t i = 0; i < PENALTY_ENTRIES; i++) {
		if (table[i].client[0] && strcmp(table[i].client, client) == 0)
			return &table[i];
		if (table[i].last < oldest->last || (!table[i].client[0] && oldest->client[0]))
			oldest = &table[i];
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->client, sizeof(oldest->client), "%s", client);
	oldest->last = now;
	return oldest;
}

bool penalty_blocked(const struct penalty_table *t, const char *client, time_t now)
{
	const struct penalty *p = find(t, client, false, now);
	return p && p->until > now;
}

bool penalty_fail(struct penalty_table *t, const char *client, time_t now, unsigned max_failures,
		  unsigned lockout)
{
	struct penalty *p = find(t, client, true, now);
	/* Failures long ago (older than a lock-out) no longer count. */
	if (p->until == 0 && p->last + (time_t)lockout < now)
		p->failures = 0;
	if (p->until != 0 && p->until <= now) {
		p->until = 0;
		p->failures = 0;
	}
	p->last = now;
	if (++p->failures >= max_failures)
		p->until = now + (time_t)lockout;
	return p->until > now;
}

void penalty_clear(struct penalty_table *t, const char *client)
{
	struct penalty *p = find(t, client, false, 0);
	if (p)
		memset(p, 0, sizeof(*p));
}
