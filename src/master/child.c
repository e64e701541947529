#include "master/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config/config.h"
#include "util/fdlimit.h"
#include "util/log.h"
#include "util/stopsig.h"

static bool fd_kept(const struct child_fds *fds, int fd)
{
	for (size_t i = 0; i < fds->n; i++)
		if (fds->fds[i] == fd)
			return true;
	return fd <= STDERR_FILENO;
}

static void close_other_fds(const struct child_fds *fds)
{
	struct rlimit rl;
	int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FDLIMIT_MAX ? (int)rl.rlim_cur : FDLIMIT_MAX;
	for (int fd = STDERR_FILENO + 1; fd < max; fd++)
		if (!fd_kept(fds, fd))
			close(fd);
}

/* A child writes its log to stderr or syslog, never to stdout; but
 * libraries do (libytnef prints what it finds wrong in a TNEF container),
 * and under `serve -f` stdout is the administrator's terminal. */
static void stdout_to_null(void)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0)
		return;
	if (null != STDOUT_FILENO) {
		dup2(null, STDOUT_FILENO);  /* dup2 clears O_CLOEXEC on the copy */
		close(null);
	}
}

/* Handlers first, then the mask: the master's handlers (libevent's) write
 * to the master's own signal pipe, which a signal taken in between would
 * reach from here. child_spawn forks with every signal blocked. */
static void reset_signals(void)
{
	int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* Every signal but the stop signals unblocked in one step: a SIGTERM
	 * the master sent since the fork (pending, blocked) must not slip
	 * through between an unblock-all and a block. The stop signals wait
	 * for the child's loop (util/stopsig.h). */
	stopsig_only();
}

/* "mw-smtpd" etc. as the process name (ps, /proc/PID/comm): how `ctl
 * status` and an administrator tell the children apart (issue 15). */
static void set_process_name(const char *kind)
{
	char name[16];
	snprintf(name, sizeof(name), "mw-%s", kind);
	prctl(PR_SET_NAME, name);
}

pid_t child_spawn(const struct config *c, const struct child_spec *spec, const struct child_fds *fds)
{
	pid_t master = getpid();
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t pid = fork();
	if (pid != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (pid < 0)
			log_event(LOG_ERR, "spawn_error", "child", spec->name, "msg", strerror(errno), NULL);
		return pid;
	}
	reset_signals();
	/* If the master dies (even by kill -9) the children stop too, so a new
	 * master never finds an orphan holding the spool or a port. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		_exit(0);
	log_init(spec->name, c->log.target, c->log.format, c->log.level);
	set_process_name(spec->name);
	close_other_fds(fds);
	stdout_to_null();
	log_reconnect();  /* its syslog socket went with the others */
	if (spec->prepare && !spec->prepare(c))
		_exit(2);
	struct privdrop_target t = spec->target(c);
	if (!privdrop_apply(&t))
		_exit(2);
	/* Again: a change of credentials clears the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		_exit(0);
	exit(spec->run(c, fds));
}

pid_t child_fork_task(const char *what)
{
	pid_t pid = fork();
	if (pid < 0)
		log_event(LOG_ERR, "spawn_error", "child", what, "msg", strerror(errno), NULL);
	if (pid != 0)
		return pid;
	sigset_t none;
	sigemptyset(&none);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);  /* the master's signalfd set stays behind */
	return 0;
}
