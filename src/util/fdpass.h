/*
 * Sending and receiving one datagram with at most one file descriptor over
 * an AF_UNIX SOCK_SEQPACKET socket. Used only by ipc/channel.c.
 */
#ifndef MW_UTIL_FDPASS_H
#define MW_UTIL_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Returns bytes sent or -1 (errno set). fd < 0 sends no descriptor. */
ssize_t fdpass_send(int sock, const void *buf, size_t len, int fd);

/* Receives one datagram into buf. *fd is set to a received descriptor or -1.
 * Returns the length, 0 at EOF, -1 on error (errno set). A datagram larger
 * than cap, or more than one descriptor, is an error (EMSGSIZE / EPROTO):
 * the peer broke the protocol. */
ssize_t fdpass_recv(int sock, void *buf, size_t cap, int *fd);

#endif
