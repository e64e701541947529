#include "util/monotime.h"

#include <time.h>

static int64_t ms_of(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t monotime_ms(void)
{
	int64_t ms = ms_of(CLOCK_MONOTONIC);
	return ms > 0 ? ms : 1;
}

int64_t walltime_ms(void)
{
	return ms_of(CLOCK_REALTIME);
}
