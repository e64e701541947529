/* The delay figures of a delivery attempt (issue 15): queue + conn + xmit
 * = total, never negative, whatever the clocks did. */
#include <criterion/criterion.h>

#include "queue/delays.h"

/* Arrived at 1000 s (wall); the attempt started 2.5 s later (wall) at
 * monotonic 50 000 ms. */
static const struct delivery_times started = { .start_wall_ms = 1002500, .start_mono_ms = 50000 };

Test(delays, connected_attempt_splits_into_connection_and_transmission)
{
	struct delivery_times t = started;
	t.ready_mono_ms = 50300;
	struct delivery_delays d = delivery_delays_of(&t, 1000, 51000);
	cr_assert_eq(d.queue, 2500);
	cr_assert_eq(d.conn, 300);
	cr_assert_eq(d.xmit, 700);
	cr_assert_eq(d.total, 3500);
}

Test(delays, attempt_never_ready_spent_it_all_connecting)
{
	struct delivery_delays d = delivery_delays_of(&started, 1000, 80000);
	cr_assert_eq(d.conn, 30000);
	cr_assert_eq(d.xmit, 0);
	cr_assert_eq(d.total, 32500);
}

/* The wall clock stepped back below the arrival: no negative figure. */
Test(delays, arrival_in_the_future_counts_as_no_time_in_the_queue)
{
	struct delivery_times t = started;
	t.ready_mono_ms = 50010;
	struct delivery_delays d = delivery_delays_of(&t, 2000, 50020);
	cr_assert_eq(d.queue, 0);
	cr_assert_eq(d.total, d.conn + d.xmit);
	cr_assert_eq(d.total, 20);
}
