/*
 * Failed AUTH attempts per client: see penalty.h.
 */
#include "auth/penalty.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LOCK_WAIT_NS (5 * 1000 * 1000)   /* 5 ms, then the check fails open */

struct penalty {
	char client[64];
	unsigned failures;
	time_t last;
	time_t until;       /* cut off until then */
};

struct penalty_table {
	pthread_mutex_t mu;
	bool shared;
	struct penalty e[PENALTY_ENTRIES];
};

struct penalty_table *penalty_new(bool shared)
{
	struct penalty_table *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
				       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, shared ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	int rc = pthread_mutex_init(&t->mu, &a);
	pthread_mutexattr_destroy(&a);
	if (rc != 0) {
		munmap(t, sizeof(*t));
		return NULL;
	}
	t->shared = shared;
	return t;
}

void penalty_free(struct penalty_table *t)
{
	if (t)
		munmap(t, sizeof(*t));
}

/* The lock, with a bound on the wait; a holder that died leaves the table
 * as it was (each update is a few stores; the worst is one stale entry). */
static bool lock(struct penalty_table *t)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += LOCK_WAIT_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	int rc = pthread_mutex_timedlock(&t->mu, &until);
	if (rc == EOWNERDEAD) {
		pthread_mutex_consistent(&t->mu);
		rc = 0;
	}
	return rc == 0;
}

static bool same_client(const struct penalty *p, const char *client)
{
	return p->client[0] && strncmp(p->client, client, sizeof(p->client)) == 0;
}

static struct penalty *find(struct penalty_table *t, const char *client, bool create, time_t now)
{
	struct penalty *oldest = &t->e[0];
	for (size_t i = 0; i < PENALTY_ENTRIES; i++) {
		if (same_client(&t->e[i], client))
			return &t->e[i];
		if (t->e[i].last < oldest->last || (!t->e[i].client[0] && oldest->client[0]))
			oldest = &t->e[i];
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->client, sizeof(oldest->client), "%s", client);
	oldest->last = now;
	return oldest;
}

bool penalty_blocked(struct penalty_table *t, const char *client, time_t now)
{
	if (!lock(t))
		return false;
	const struct penalty *p = find(t, client, false, now);
	bool blocked = p && p->until > now;
	pthread_mutex_unlock(&t->mu);
	return blocked;
}

bool penalty_fail(struct penalty_table *t, const char *client, time_t now, unsigned max_failures,
		  unsigned lockout)
{
	if (!lock(t))
		return false;
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
	bool cut_off = p->until > now;
	pthread_mutex_unlock(&t->mu);
	return cut_off;
}

void penalty_clear(struct penalty_table *t, const char *client)
{
	if (!lock(t))
		return;
	struct penalty *p = find(t, client, false, 0);
	if (p)
		memset(p, 0, sizeof(*p));
	pthread_mutex_unlock(&t->mu);
}
