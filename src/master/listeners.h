/*
 * The listening sockets. Bound by the master (as root, so ports below 1024
 * work) and inherited by every smtpd. A reload keeps the sockets whose
 * address and port are unchanged, so no connection attempt is refused
 * while the new generation starts.
 */
#ifndef MW_MASTER_LISTENERS_H
#define MW_MASTER_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>

struct config;

struct listener_socket {
	char *name;
	char *address;
	unsigned port;
	int fd;
};

struct listener_set {
	struct listener_socket *items;
	size_t n;
};

/* Build the set for config c, reusing matching sockets of old (which is
 * emptied: reused sockets move over, the rest are closed). Retries a busy
 * port for a few seconds (a previous instance may still be stopping).
 * Returns false, with the failing listener logged, if a bind fails. */
bool listeners_bind(const struct config *c, struct listener_set *old, struct listener_set *out);
void listeners_close(struct listener_set *set);

#endif
