/*
 * The master's pid file, state_dir/mailwarden.pid (issue 15): one line,
 * the master's pid. It marks the state directory as taken: a second
 * serve on the same state_dir is refused while the holder lives; a file
 * left by a master that died (its pid gone, or now another program's) is
 * replaced. `mailwarden ctl reload|stop|status` find the master by it.
 */
#ifndef MW_UTIL_PIDFILE_H
#define MW_UTIL_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PIDFILE_NAME "mailwarden.pid"  /* in state_dir */

/* path: state_dir/PIDFILE_NAME into out; false if it does not fit. */
bool pidfile_path(const char *state_dir, char *out, size_t cap);

/* Create path (O_EXCL) holding getpid(). A file whose pid is not a live
 * mailwarden process is stale and replaced. false with why set (another
 * master holds it, or the file cannot be written). */
bool pidfile_claim(const char *path, char *why, size_t whylen);

/* After a fork (serve detaching): put getpid() into a file we claimed. */
bool pidfile_update(const char *path);

/* At exit: remove path if it still names us. */
void pidfile_release(const char *path);

/* The pid in path, if that process is a live mailwarden (not a zombie);
 * 0 otherwise. */
pid_t pidfile_live_master(const char *path);

/* Is pid a process that runs the mailwarden binary and has not exited
 * (a zombie waiting for its parent counts as exited)? */
bool pidfile_pid_is_mailwarden(pid_t pid);

#endif
