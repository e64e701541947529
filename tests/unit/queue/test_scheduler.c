/* The retry schedule: retry_min, doubled per attempt, at most retry_max. */
#include <criterion/criterion.h>

#include "queue/scheduler.h"

Test(retry_schedule, doubles_up_to_the_maximum)
{
	unsigned expect[] = { 60, 60, 120, 240, 480, 960, 1920, 3600, 3600 };
	for (unsigned a = 0; a < sizeof(expect) / sizeof(expect[0]); a++)
		cr_assert_eq(retry_schedule(60, 3600, a), expect[a], "attempt %u: %u", a, retry_schedule(60, 3600, a));
}

Test(retry_schedule, never_overflows)
{
	cr_assert_eq(retry_schedule(86400, 7 * 86400, 1000000), 7 * 86400);
	cr_assert_eq(retry_schedule(1, 1, 5), 1);
	cr_assert_eq(retry_schedule(4000000000u, 4000000000u, 64), 4000000000u);
}
