#include "queue/qclock.h"

#include <time.h>

struct qclock qclock_now(void)
{
	struct timespec ts = { 0 };
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (struct qclock){ .mono = (int64_t)ts.tv_sec + 1, .wall = (int64_t)time(NULL) };
}

int64_t qclock_since(const struct qclock *now, uint64_t arrival)
{
	if (arrival > (uint64_t)INT64_MAX || (int64_t)arrival >= now->wall)
		return now->mono;
	return now->mono - (now->wall - (int64_t)arrival);
}

int64_t qclock_age(const struct qclock *now, int64_t since)
{
	return now->mono > since ? now->mono - since : 0;
}

bool qclock_expired(const struct qclock *now, int64_t since, unsigned lifetime)
{
	return qclock_age(now, since) >= (int64_t)lifetime;
}

int64_t qclock_next_try(const struct qclock *now, int64_t since, unsigned delay, unsigned lifetime)
{
	int64_t next = now->mono + delay, end = since + (int64_t)lifetime;
	if (next > end)
		next = end > now->mono ? end : now->mono;
	return next;
}
