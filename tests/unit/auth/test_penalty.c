/* The brake on failed logins: counting, lock-out, expiry, bounded table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/penalty.h"

Test(penalty, cut_off_after_max_failures_until_lockout_ends)
{
	struct penalty_table *t = penalty_new(false);
	cr_assert_not(penalty_fail(t, "192.0.2.1", 1000, 3, 600));
	cr_assert_not(penalty_fail(t, "192.0.2.1", 1001, 3, 600));
	cr_assert_not(penalty_blocked(t, "192.0.2.1", 1001));
	cr_assert(penalty_fail(t, "192.0.2.1", 1002, 3, 600));
	cr_assert(penalty_blocked(t, "192.0.2.1", 1500));
	cr_assert_not(penalty_blocked(t, "192.0.2.2", 1500));
	cr_assert_not(penalty_blocked(t, "192.0.2.1", 1602));   /* lock-out over */
	cr_assert_not(penalty_fail(t, "192.0.2.1", 1603, 3, 600)); /* counting starts again */
	penalty_free(t);
}

Test(penalty, success_and_old_failures_are_forgotten)
{
	struct penalty_table *t = penalty_new(false);
	penalty_fail(t, "192.0.2.1", 1000, 2, 60);
	penalty_clear(t, "192.0.2.1");
	cr_assert_not(penalty_fail(t, "192.0.2.1", 1001, 2, 60));
	cr_assert_not(penalty_fail(t, "192.0.2.1", 1100, 2, 60));  /* the first is too old */
	cr_assert(penalty_fail(t, "192.0.2.1", 1101, 2, 60));
	penalty_free(t);
}

Test(penalty, table_is_bounded)
{
	struct penalty_table *t = penalty_new(false);
	char ip[32];
	for (unsigned i = 0; i < PENALTY_ENTRIES * 2; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
		penalty_fail(t, ip, 1000 + i, 1, 100000);
	}
	/* The newest ones are still there; the oldest were reused. */
	cr_assert(penalty_blocked(t, ip, 1000 + PENALTY_ENTRIES * 2));
	cr_assert_not(penalty_blocked(t, "10.0.0.0", 1000 + PENALTY_ENTRIES * 2));
	penalty_free(t);
}

/* Issue 16 item 9: failures counted in other processes (several smtpd)
 * add up in the one shared table. */
Test(penalty, a_shared_table_counts_failures_from_every_process)
{
	struct penalty_table *t = penalty_new(true);
	cr_assert_not_null(t);
	for (int i = 0; i < 3; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(penalty_fail(t, "198.51.100.7", 1000 + i, 3, 600) ? 1 : 0);
		int status;
		waitpid(pid, &status, 0);
		cr_assert_eq(WEXITSTATUS(status), i == 2 ? 1 : 0, "child %d", i);
	}
	cr_assert(penalty_blocked(t, "198.51.100.7", 1100));
	penalty_free(t);
}
