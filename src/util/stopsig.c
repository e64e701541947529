/*
 * See stopsig.h.
 */
#include "util/stopsig.h"

#include <pthread.h>
#include <signal.h>

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

void stopsig_only(void)
{
	sigset_t set;
	stop_signals(&set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
}

void stopsig_release(void)
{
	sigset_t set;
	stop_signals(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}
