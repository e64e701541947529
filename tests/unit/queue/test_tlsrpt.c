/* When the daily TLS-RPT run starts (src/queue/tlsrpt.c; TLS-8): ten
 * minutes past midnight UTC, whatever the time now. */
#include <criterion/criterion.h>

#include "queue/tlsrpt.h"

#define DAY 86400
#define MIDNIGHT 1796601600  /* 2026-12-07 00:00:00 UTC */

Test(tlsrpt, daily_run_at_ten_past_midnight_utc)
{
	cr_assert_eq(tlsrpt_until_daily(MIDNIGHT), 600);
	cr_assert_eq(tlsrpt_until_daily(MIDNIGHT + 599), 1);
	cr_assert_eq(tlsrpt_until_daily(MIDNIGHT + 600), DAY, "just run: the next is tomorrow's");
	cr_assert_eq(tlsrpt_until_daily(MIDNIGHT + 12 * 3600), 12 * 3600 + 600);
	cr_assert_eq(tlsrpt_until_daily(MIDNIGHT + DAY - 1), 601);
}
