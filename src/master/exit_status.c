/* See exit_status.h. */
#include "master/exit_status.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

const char *exit_status_describe(int status, char *buf, size_t size)
{
	if (!WIFSIGNALED(status)) {
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
		return NULL;
	}
	int sig = WTERMSIG(status);
	const char *abbrev = sigabbrev_np(sig);
	snprintf(buf, size, "signal %d (SIG%s)", sig, abbrev ? abbrev : "?");
	if (sig == SIGSYS)
		return "killed by its seccomp filter (a system call outside its list): README, Hardening: seccomp";
	return NULL;
}
