/*
 * CIDR networks (IPv4 and IPv6) and lists of them: parse "192.0.2.0/24",
 * "2001:db8::/32" or a bare address (a host route), and test membership.
 * IPv4-mapped IPv6 client addresses (::ffff:a.b.c.d) match IPv4 networks.
 */
#ifndef MW_NET_CIDR_H
#define MW_NET_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network address, host bits cleared */
	unsigned prefix;         /* 0..32 or 0..128 */
};

struct cidr_list {
	struct cidr *items;
	size_t n;
};

/* Parse text of length len. Returns false (and leaves *out untouched) on any
 * syntax error, a prefix out of range, or host bits set beyond the prefix
 * ("10.0.0.1/8" is refused: the administrator most likely meant something else). */
bool cidr_parse(const char *text, size_t len, struct cidr *out);

/* Does the address (struct sockaddr_in / sockaddr_in6) lie in the network? */
bool cidr_contains(const struct cidr *net, const struct sockaddr *sa);
bool cidr_list_contains(const struct cidr_list *list, const struct sockaddr *sa);

void cidr_list_add(struct cidr_list *list, const struct cidr *c);
void cidr_list_free(struct cidr_list *list);

#endif
