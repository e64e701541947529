/*
 * "mailwarden queue ...": the command-line client of the queue's
 * control socket (queue/control.h). Finds the socket through the
 * configuration's state_dir (-c FILE, like serve), sends one command line
 * and prints the answer. Runs as the administrator (root or the queue
 * user); never touches the spool itself.
 */
#ifndef MW_CTL_QUEUECTL_H
#define MW_CTL_QUEUECTL_H

#include <stdio.h>

/* argv[0] is "queue". Returns the exit status: 0 ok, 1 the queue refused
 * or failed, 2 usage. */
int queuectl_main(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void queuectl_usage(FILE *out);

/* Send one control line (without its line end) to the queue of
 * state_dir; the answer goes to stdout (ok) or stderr (error). tool
 * names the command in messages. Returns 0, or 1 with *why set. */
int queuectl_send(const char *state_dir, const char *line, const char *tool, const char **why);
/* The same with an ok answer going to answer instead of stdout. */
int queuectl_send_to(const char *state_dir, const char *line, const char *tool, FILE *answer, const char **why);

#endif
