/* See trip.h. */
#include "sandbox/trip.h"

#ifdef MW_TEST_HOOKS

#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* syslog(2)'s SYSLOG_ACTION_SIZE_BUFFER: only asks a size, so the call
 * does no harm where no filter stops it. */
static void trip(int sig)
{
	syscall(SYS_syslog, 10, NULL, 0);
}

void sandbox_trip_arm(void)
{
	if (getenv("MW_TEST_SECCOMP_TRIP"))
		signal(SIGUSR2, trip);
}

#else

void sandbox_trip_arm(void)
{
}

#endif
