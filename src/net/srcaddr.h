/*
 * The source addresses of outbound connections (queue.source_address,
 * SEC-3, issue 16 item 6): one IPv4 and/or one IPv6 address, bound before
 * connect, so that the peer sees the gateway come from the address whose
 * PTR names its hostname (double-reverse DNS).
 */
#ifndef MW_NET_SRCADDR_H
#define MW_NET_SRCADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct srcaddr {
	bool has_v4, has_v6;
	struct sockaddr_in v4;    /* port 0: the kernel picks one */
	struct sockaddr_in6 v6;
};

/* Parse "192.0.2.25", "2001:db8::25" or both, separated by spaces or a
 * comma (len bytes). Returns NULL, or a static sentence saying what is
 * wrong (then *out is unspecified). out may be NULL: syntax check only. */
const char *srcaddr_parse(const char *s, size_t len, struct srcaddr *out);

/* The address to bind for a connection of family (AF_INET, AF_INET6), or
 * NULL when none is configured for it. *len gets its size. */
const struct sockaddr *srcaddr_for(const struct srcaddr *a, int family, size_t *len);

#endif
