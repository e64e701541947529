/*
 * The metrics endpoint's listening socket (issue 15). Bound by the master
 * like the SMTP listeners (as root, so any port works, and before
 * `serve` detaches, so a busy port is an error on the caller's terminal),
 * then handed to the queue, which serves it (queue/metrics_http.h).
 * The address is read at start-up only: a reload that changes
 * metrics.listen is logged, and the endpoint keeps its address until the
 * next start.
 */
#ifndef MW_MASTER_METRICS_SOCKET_H
#define MW_MASTER_METRICS_SOCKET_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* *fd: the bound, listening socket, or -1 when metrics.listen is not
 * set. false (the problem in why) when it is set and cannot be bound. */
bool metrics_socket_bind(const struct config *c, int *fd, char *why, size_t whylen);

#endif
