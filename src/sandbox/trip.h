/*
 * A test's way to make a confined child break its seccomp filter on
 * demand (tests/system/privsep/test_seccomp.py). Only in builds with the
 * tests (MW_BUILD_TESTS, which defines MW_TEST_HOOKS); the package is
 * built without them and this is a no-op there.
 */
#ifndef MW_SANDBOX_TRIP_H
#define MW_SANDBOX_TRIP_H

/* With MW_TEST_SECCOMP_TRIP set in the environment: SIGUSR2 makes the
 * process call syslog(2), which no filter allows. Called before the
 * filter is loaded. */
void sandbox_trip_arm(void);

#endif
