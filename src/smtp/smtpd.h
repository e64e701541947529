/*
 * The smtpd process: SMTP server sessions on the inherited listening
 * sockets. Runs unprivileged and chrooted (when started as root); talks to
 * the queue over one channel. fds->fds[0] is the queue channel, then one
 * listening socket per configured listener, in configuration order.
 */
#ifndef MW_SMTP_SMTPD_H
#define MW_SMTP_SMTPD_H

struct config;
struct child_fds;

int smtpd_main(const struct config *c, const struct child_fds *fds);

#endif
