/*
 * How a child ended, in words for the master's child_exited line: an
 * administrator must tell a crash from a stop, and a seccomp kill
 * (SIGSYS) from both (issue 15).
 */
#ifndef MW_MASTER_EXIT_STATUS_H
#define MW_MASTER_EXIT_STATUS_H

#include <stddef.h>

/* "exit 1", "signal 15 (SIGTERM)" into buf (waitpid's status). Returns a
 * hint for the administrator when the way it ended has a known cause
 * (SIGSYS: the seccomp filter), else NULL. */
const char *exit_status_describe(int status, char *buf, size_t size);

#endif
