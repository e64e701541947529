/*
 * The queue process: owns the spool. Opens and commits spool files for
 * smtpd, recovers the spool at start-up, schedules and runs deliveries.
 * Runs as the queue user in the state directory. fds->fds[0] is the
 * control channel to the master, which passes a channel to each smtpd
 * over it (IPC_MASTER_CHANNEL): at start-up, and whenever it restarts one
 * smtpd alone.
 */
#ifndef MW_QUEUE_QUEUE_H
#define MW_QUEUE_QUEUE_H

struct config;
struct child_fds;

int queue_main(const struct config *c, const struct child_fds *fds);

#endif
