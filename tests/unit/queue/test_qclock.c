/* The queue's clocks (src/queue/qclock.c), issue 18 item 10: retry and
 * expiry decisions follow the monotonic clock; the wall clock only gives a
 * recovered message its age. Clocks are injected: a message arrives at
 * wall time T, monotonic second 1000. */
#include <criterion/criterion.h>

#include "queue/qclock.h"

#define T 1800000000ll
#define HOUR 3600
#define DAY 86400

static const struct qclock arrived = { .mono = 1000, .wall = T };

Test(qclock, a_forward_step_of_the_wall_clock_expires_nothing)
{
	int64_t since = qclock_since(&arrived, T);
	/* Ten seconds later the wall clock is stepped two days ahead. */
	struct qclock later = { .mono = 1010, .wall = T + 2 * DAY + 10 };
	cr_assert_not(qclock_expired(&later, since, HOUR), "a message queued for 10s expired after a clock step");
	cr_assert_eq(qclock_age(&later, since), 10);
	cr_assert_eq(qclock_next_try(&later, since, 60, HOUR), 1070, "the retry must not be cut to the lifetime");
}

Test(qclock, a_backward_step_of_the_wall_clock_does_not_stall_retries)
{
	int64_t since = qclock_since(&arrived, T);
	int64_t next = qclock_next_try(&arrived, since, 60, HOUR);
	cr_assert_eq(next, 1060);
	/* The wall clock went back a day; 61 monotonic seconds passed. */
	struct qclock later = { .mono = 1061, .wall = T - DAY + 61 };
	cr_assert(next <= later.mono, "the retry is due on the monotonic clock, whatever the wall clock says");
}

Test(qclock, a_message_past_its_lifetime_expires)
{
	int64_t since = qclock_since(&arrived, T);
	struct qclock later = { .mono = 1000 + HOUR, .wall = T - DAY };
	cr_assert(qclock_expired(&later, since, HOUR));
	/* Retries never go past the end of the lifetime, nor into the past. */
	struct qclock before_end = { .mono = 1000 + HOUR - 5, .wall = T };
	cr_assert_eq(qclock_next_try(&before_end, since, 60, HOUR), 1000 + HOUR);
	cr_assert_eq(qclock_next_try(&later, since, 60, HOUR), later.mono);
}

Test(qclock, a_recovered_message_keeps_the_age_of_its_persisted_arrival)
{
	/* After a restart: the monotonic clock starts anew, the spool file
	 * says the message arrived 100 s before now. */
	struct qclock restarted = { .mono = 5, .wall = T + 100 };
	int64_t since = qclock_since(&restarted, T);
	cr_assert_eq(qclock_age(&restarted, since), 100);
	struct qclock much_later = { .mono = 5 + HOUR - 100, .wall = T + HOUR };
	cr_assert(qclock_expired(&much_later, since, HOUR));
}

Test(qclock, an_arrival_in_the_future_counts_as_now)
{
	struct qclock now = { .mono = 700, .wall = T };
	cr_assert_eq(qclock_since(&now, T + DAY), 700);
	cr_assert_eq(qclock_since(&now, UINT64_MAX), 700);
	cr_assert_eq(qclock_age(&now, qclock_since(&now, T + DAY)), 0);
}

Test(qclock, the_monotonic_reading_is_never_zero)
{
	cr_assert_neq(qclock_now().mono, 0, "0 means an unset time in the scheduler");
}
