/*
 * The scanner process (issue 10; DESIGN "One binary, a few processes"):
 * runs the content checks (content/check.h) on whole messages for the
 * queue. It runs as its own unprivileged user, chrooted into the empty
 * directory like smtpd, with no access to the spool: the queue hands it
 * each message as a sealed, read-only memfd copy, which reaches nothing
 * but that one message (SEC-1: a compromised scanner can at worst give a
 * wrong verdict on the message it was shown). The checks run in a small
 * pool of worker threads; the event loop only talks to the queue.
 */
#ifndef MW_CONTENT_SCANNER_H
#define MW_CONTENT_SCANNER_H

#include <stdbool.h>

struct config;
struct child_fds;
struct rule_set;

/* In the master: the compiled scan.rules the scanners it forks from now
 * on run with (content/rules_watch.h); it must live until the next call. */
void scanner_rules_use(const struct rule_set *rs);

/* Child prepare hook (master/child.h): runs before the privilege drop and
 * loads the sender-login table (auth.sender_logins) for from_binding.
 * false: the table cannot be read (logged); the child does not start. */
bool scanner_prepare(const struct config *c);

/* Child main (master/child.h): fds->fds[0] is the control channel to the
 * master, which sends the channel to the queue. */
int scanner_main(const struct config *c, const struct child_fds *fds);

#endif
