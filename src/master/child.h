/*
 * The one skeleton every child process starts through (Postfix's
 * single_server idea): fork, reset signals, die with the master
 * (PR_SET_PDEATHSIG), close every descriptor it was not given, set up
 * logging, drop privileges, then call the child's main. No child repeats
 * any of this.
 */
#ifndef MW_MASTER_CHILD_H
#define MW_MASTER_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ipc/child_fds.h"
#include "master/privdrop.h"

struct config;

struct child_spec {
	const char *name;                       /* "smtpd", "queue": the log's proc= */
	struct privdrop_target (*target)(const struct config *c);
	/* The child's main; runs after the drop; returns the exit status. */
	int (*run)(const struct config *c, const struct child_fds *fds);
	/* Optional: runs in the child before the drop (still root, not yet
	 * chrooted): read what the chroot will hide. false: the child exits
	 * (status 2) without serving. */
	bool (*prepare)(const struct config *c);
};

/* Fork a child. Returns its pid in the parent, -1 on failure. */
pid_t child_spawn(const struct config *c, const struct child_spec *spec, const struct child_fds *fds);

/* Fork a short-lived task of the master (the rules compiler, the Bayes
 * learner): it keeps the master's privileges and files, and a stop of
 * the master ends it with SIGTERM's default action, so its work must be
 * safe to cut short (written to a temporary file and renamed, or one
 * database transaction). Returns 0 in the task, its pid in the master,
 * -1 on failure (logged with what). */
pid_t child_fork_task(const char *what);

#endif
