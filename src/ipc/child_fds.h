/*
 * The descriptors a child process is started with: the contract between
 * the master's table of child kinds (master/child.h) and each kind's main
 * (smtpd, queue, scanner). It lives here, below them all, so that a
 * child's main needs nothing from master/.
 */
#ifndef MW_IPC_CHILD_FDS_H
#define MW_IPC_CHILD_FDS_H

#include <stddef.h>

/* fds[0] is always the child's control channel to the master (a
 * SOCK_SEQPACKET socket for ipc/channel.h: IPC_MASTER_* messages); the
 * rest depend on the kind (master.c's table). */
struct child_fds {
	int *fds;        /* descriptors the child keeps; all others are closed */
	size_t n;
};

#endif
