/*
 * Milliseconds on the monotonic clock, for durations that a step of the
 * wall clock must not distort (the delay figures of a delivery attempt).
 */
#ifndef MW_UTIL_MONOTIME_H
#define MW_UTIL_MONOTIME_H

#include <stdint.h>

/* Never 0, so that 0 can mean "not reached". */
int64_t monotime_ms(void);

/* Milliseconds since the epoch, by the wall clock. */
int64_t walltime_ms(void);

#endif
