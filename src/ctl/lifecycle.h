/*
 * The gateway's life from the command line (issue 15):
 *
 *   mailwarden ctl [-c FILE] reload   the same as SIGHUP to the master
 *   mailwarden ctl [-c FILE] stop     the same as SIGTERM, and waits
 *   (and the process lines of ctl status)
 *
 * The master is found by its pid file (util/pidfile.h). reload and stop
 * signal it rather than ask over the queue's control socket: the master
 * is root when started as root and has no control socket of its own, and
 * a path from the unprivileged queue to the master's reload and stop
 * would hand the queue user (the one that handles mail) the root
 * process's life; a signal is checked by the kernel (root or the
 * master's own user only), is what systemd's reload/stop and `kill -HUP`
 * use, and so there is one way in for all of them.
 */
#ifndef MW_CTL_LIFECYCLE_H
#define MW_CTL_LIFECYCLE_H

#include <stdio.h>

#include "config/config.h"

/* The check serve runs on a configuration before it uses it (the master's
 * preflight): main.c passes it in, ctl sits below the master. */
typedef void (*lifecycle_check_fn)(const struct config *c, struct config_errors *errs,
				   struct config_errors *warnings);
void lifecycle_use_check(lifecycle_check_fn check);

/* reload: check c's file as serve would (errors on stderr, 1), signal the
 * master, and wait until the queue runs the new file (its SHA-256 in
 * status); 0 taken, 1 not (the running configuration stays). */
int lifecycle_reload(const struct config *c);

/* stop: SIGTERM to the master, then wait (60 s at most) until it has
 * exited; 0 stopped, 1 not running or still there. */
int lifecycle_stop(const struct config *c);

/* status's lines about the processes: pid_master, uptime_seconds, and
 * pid_queue, pid_scanner, pid_smtpd (the master's children by their
 * process names, master/child.c). */
void lifecycle_print_processes(FILE *out, const struct config *c);

#endif
