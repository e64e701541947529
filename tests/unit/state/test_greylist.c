/* Greylisting triplets in SQLite: defer, pass after the delay, stay
 * passed, expire. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "state/greylist.h"

static char path[64];
static struct greylist *g;

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/mw-greylist-%d.db", (int)getpid());
	unlink(path);
	g = greylist_open(path);
	cr_assert_not_null(g);
}

static void teardown(void)
{
	greylist_close(g);
	unlink(path);
}

TestSuite(greylist, .init = setup, .fini = teardown);

Test(greylist, first_attempt_is_deferred_retry_after_delay_passes)
{
	const char *k = "192.0.2.0/24|a@b.test|c@d.test";
	cr_assert_eq(greylist_check(g, k, 1000, 300, 86400), GREYLIST_DEFER);
	cr_assert_eq(greylist_check(g, k, 1100, 300, 86400), GREYLIST_DEFER);
	cr_assert_eq(greylist_check(g, k, 1300, 300, 86400), GREYLIST_PASS);
	/* once passed, no new delay */
	cr_assert_eq(greylist_check(g, k, 1301, 300, 86400), GREYLIST_PASS);
	/* another recipient is another triplet */
	cr_assert_eq(greylist_check(g, "192.0.2.0/24|a@b.test|x@d.test", 1302, 300, 86400), GREYLIST_DEFER);
}

Test(greylist, idle_triplet_expires)
{
	const char *k = "198.51.100.0/24|a@b.test|c@d.test";
	cr_assert_eq(greylist_check(g, k, 1000, 10, 3600), GREYLIST_DEFER);
	cr_assert_eq(greylist_check(g, k, 1010, 10, 3600), GREYLIST_PASS);
	cr_assert_eq(greylist_check(g, k, 1010 + 3601, 10, 3600), GREYLIST_DEFER);
}

Test(greylist, state_survives_reopen)
{
	const char *k = "203.0.113.0/24|<>|c@d.test";
	cr_assert_eq(greylist_check(g, k, 50, 5, 3600), GREYLIST_DEFER);
	greylist_close(g);
	g = greylist_open(path);
	cr_assert_eq(greylist_check(g, k, 60, 5, 3600), GREYLIST_PASS);
}

Test(greylist, hostile_keys_are_just_text)
{
	const char *k = "x'); DROP TABLE triplet; --";
	cr_assert_eq(greylist_check(g, k, 1, 0, 3600), GREYLIST_DEFER);
	cr_assert_eq(greylist_check(g, k, 1, 0, 3600), GREYLIST_PASS);
}

Test(greylist, no_database_fails_open)
{
	cr_assert_eq(greylist_check(NULL, "k", 1, 1, 1), GREYLIST_ERROR);
	cr_assert_null(greylist_open("/nonexistent-dir/x/greylist.db"));
}
