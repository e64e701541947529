/*
 * serve without -f (issue 15): the gateway goes into the background only
 * once it has started, so that the command's exit status and its standard
 * error say whether it did. The process forks at once; the parent waits
 * on a pipe until the child (the master from then on) reports that its
 * listeners are bound, and exits 0, or exits 1 when the child ended
 * without that report (its reasons went to standard error and syslog).
 */
#ifndef MW_MASTER_DETACH_H
#define MW_MASTER_DETACH_H

/* Fork; returns in the child only, with the pipe's write end (the
 * parent never returns). Exits 1 if it cannot fork or make the pipe. */
int detach_begin(void);

/* The child has started: standard input, output and error to /dev/null,
 * a new session, and the waiting parent exits 0. fd < 0: nothing to do
 * (serve -f). */
void detach_done(int fd);

#endif
