/*
 * Failed AUTH attempts per client: see penalty.h.
 */
#include "auth/penalty.h"

#include <stdio.h>
#include <string.h>

struct penalty {
	char client[64];
	unsigned failures;
	time_t last;
	time_t until;       /* cut off until then */
};

static struct penalty table[PENALTY_ENTRIES];

static struct penalty *find(const char *client, bool create, time_t now)
{
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

bool penalty_blocked(const char *client, time_t now)
{
	const struct penalty *p = find(client, false, now);
	return p && p->until > now;
}

bool penalty_fail(const char *client, time_t now, unsigned max_failures, unsigned lockout)
{
	struct penalty *p = find(client, true, now);
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

void penalty_clear(const char *client)
{
	struct penalty *p = find(client, false, 0);
	if (p)
		memset(p, 0, sizeof(*p));
}
