/*
 * The state directory, prepared by the master before any child starts:
 *   <state_dir>/          root (or the caller), 0755
 *   <state_dir>/spool/    the queue user, 0700: only the queue process enters
 *   <state_dir>/mta-sts/  the queue user, 0700: its MTA-STS policy cache
 *   <state_dir>/empty/    root, 0755, empty: smtpd's chroot
 * and every maildir next hop's directory, owned by the queue user, which
 * delivers into it. Runs as root when the master was started as root.
 */
#ifndef MW_MASTER_STATEDIR_H
#define MW_MASTER_STATEDIR_H

#include <stdbool.h>

struct config;

bool statedir_prepare(const struct config *c);

#endif
