/*
 * The smtpd process: SMTP server sessions on the inherited listening
 * sockets. Runs unprivileged and chrooted (when started as root); talks to
 * the queue over one channel. fds->fds[0] is the control channel to the
 * master, then one listening socket per configured listener, in
 * configuration order. The queue channel comes from the master over the
 * control channel (IPC_MASTER_CHANNEL), and again whenever the queue is
 * restarted; until it comes, DATA and BDAT are answered 451.
 */
#ifndef MW_SMTP_SMTPD_H
#define MW_SMTP_SMTPD_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct config;
struct child_fds;
struct tls_server;
struct auth_db;

/* What smtpd needs from files it cannot open itself (it is chrooted and
 * unprivileged): the TLS keys and certificates and the credentials. The
 * master loads them for each generation, before forking, and a reload
 * (SIGHUP) loads them again; smtpd inherits them through fork. */
struct smtpd_assets {
	struct tls_server *tls;    /* NULL if no listener uses TLS */
	struct auth_db *auth;
};

/* Load for configuration c; false with the reason in err (the master then
 * keeps the running generation). */
bool smtpd_assets_load(const struct config *c, struct smtpd_assets *out, char *err, size_t errlen);
void smtpd_assets_free(struct smtpd_assets *a);

/* The assets the next smtpd forked by this process uses (the master calls
 * this before child_spawn). */
void smtpd_assets_use(const struct smtpd_assets *a);
/* The failed-AUTH table every smtpd shares (auth/penalty.h), made by the
 * master before it forks any. */
struct penalty_table;
void smtpd_penalties_use(struct penalty_table *t);

/* SCAN-11: the emergency level the next smtpd forked by this process
 * starts with (the master reads it from the state file before each
 * child_spawn; the queue tells running smtpds of every switch). */
void smtpd_level_use(uint32_t level);

/* Before the privilege drop and chroot (child.h prepare): the scanner's
 * files and the known partners' store. */
bool smtpd_prepare(const struct config *c);

int smtpd_main(const struct config *c, const struct child_fds *fds);

#endif
