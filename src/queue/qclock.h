/*
 * The queue's two clocks (issue 18 item 10, Q-2). Retry times, ages and
 * the lifetime are measured on the monotonic clock, which never jumps, so
 * a step of the wall clock neither expires a message that has not been
 * queued that long (forward) nor stalls retries (backward). Wall time is
 * for what people read: headers, logs, and the arrival time persisted in
 * the spool file, the only link to a message's age across a restart.
 * Everything but qclock_now() is pure, so the decisions are tested with
 * injected clocks (tests/unit/queue/test_qclock.c).
 */
#ifndef MW_QUEUE_QCLOCK_H
#define MW_QUEUE_QCLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct qclock {
	int64_t mono;   /* monotonic seconds, never 0 (0 may mean "unset") */
	int64_t wall;   /* seconds since the epoch */
};

struct qclock qclock_now(void);

/* The monotonic second a message entered the queue, from its persisted
 * wall-clock arrival: now less its age by the wall clock. An arrival in
 * the future (the clock was stepped back since) counts as now. */
int64_t qclock_since(const struct qclock *now, uint64_t arrival);

/* Seconds a message that entered the queue at `since` has been queued. */
int64_t qclock_age(const struct qclock *now, int64_t since);

/* Past its lifetime: its pending recipients fail. */
bool qclock_expired(const struct qclock *now, int64_t since, unsigned lifetime);

/* The next try, `delay` seconds from now, but never after the end of the
 * lifetime (and never before now). */
int64_t qclock_next_try(const struct qclock *now, int64_t since, unsigned delay, unsigned lifetime);

#endif
