/*
 * The limit of open files. systemd and most shells start a daemon with a
 * soft limit of 1024 (the hard limit is far higher), which caps an smtpd
 * near 500 sessions: each holds its socket, and during a transaction a
 * pipe to the queue. The master raises its soft limit before it forks,
 * so every child has the room limits.connections asks for.
 */
#ifndef MW_UTIL_FDLIMIT_H
#define MW_UTIL_FDLIMIT_H

#include <sys/resource.h>

/* The most a child closes on its way in (master/child.c): higher limits
 * are not asked for. */
#define FDLIMIT_MAX 65536

/* Raise the soft limit of open files to want (at most the hard limit and
 * FDLIMIT_MAX); never lowers it. Returns the soft limit now in force. */
rlim_t fdlimit_raise(rlim_t want);

/* The soft limit of open files in force (0 if it cannot be read). */
rlim_t fdlimit_current(void);

#endif
