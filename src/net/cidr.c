/*
 * CIDR networks: parsing and membership. Pure functions, no I/O; used by
 * the configuration loader (master, before the privilege drop) and by the
 * relay decision in smtpd.
 */
#include "net/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" is 49 bytes. */
#define CIDR_TEXT_MAX 64

static const unsigned char v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/*
 * The prefix length: plain decimal, no sign, no leading zero ("/08" is
 * refused: it reads like octal and is most likely a typo), at most max.
 */
static bool parse_prefix(const char *p, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 3)
		return false;
	if (p[0] == '0' && len > 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Are all bits of addr (nbytes long) beyond the first prefix bits zero? */
static bool host_bits_clear(const unsigned char *addr, size_t nbytes, unsigned prefix)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned first = (unsigned)i * 8;
		unsigned char mask;

		if (first + 8 <= prefix)
			continue;
		mask = first >= prefix ? 0xff : (unsigned char)(0xffu >> (prefix - first));
		if (addr[i] & mask)
			return false;
	}
	return true;
}

bool cidr_parse(const char *text, size_t len, struct cidr *out)
{
	char buf[CIDR_TEXT_MAX];
	const char *slash;
	size_t addr_len;
	struct cidr c;
	unsigned max;

	/* Bounded copy: text need not be NUL-terminated, and an embedded NUL
	 * must not cut the string short behind our back. */
	if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len))
		return false;
	slash = memchr(text, '/', len);
	addr_len = slash ? (size_t)(slash - text) : len;
	if (addr_len == 0)
		return false;
	memcpy(buf, text, addr_len);
	buf[addr_len] = '\0';

	memset(&c, 0, sizeof(c));
	/* inet_pton is strict: no spaces, no zone ids, no short IPv4 forms. */
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		return false;
	}

	if (slash) {
		if (!parse_prefix(slash + 1, len - addr_len - 1, max, &c.prefix))
			return false;
	} else {
		c.prefix = max;
	}
	if (!host_bits_clear(c.addr, max / 8, c.prefix))
		return false;
	*out = c;
	return true;
}

static bool prefix_matches(const unsigned char *net, const unsigned char *addr, unsigned prefix)
{
	size_t whole = prefix / 8;
	unsigned rest = prefix % 8;

	if (memcmp(net, addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff00u >> rest);
	return (net[whole] & mask) == (addr[whole] & mask);
}

bool cidr_contains(const struct cidr *net, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int family;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		memcpy(addr, &sin->sin_addr, 4);
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(addr, &sin6->sin6_addr, 16);
		family = AF_INET6;
	} else {
		return false;
	}

	/* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d. Such a
	 * client is an IPv4 client: it must meet the IPv4 networks, or
	 * "10.0.0.0/8" would silently never match on that socket, and it
	 * must not fall into a wide IPv6 network such as ::/0 only because of
	 * the socket it arrived on. */
	if (family == AF_INET6 && memcmp(addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(addr, addr + 12, 4);
		family = AF_INET;
	}
	/* An IPv4 client meets an IPv6 network only if the network lies
	 * inside ::ffff:0:0/96 (written as "::ffff:10.0.0.0/104"). */
	if (family == AF_INET && net->family == AF_INET6) {
		if (net->prefix < 96 || memcmp(net->addr, v4mapped_prefix, sizeof(v4mapped_prefix)) != 0)
			return false;
		memmove(addr + 12, addr, 4);
		memcpy(addr, v4mapped_prefix, sizeof(v4mapped_prefix));
		family = AF_INET6;
	}
	if (family != net->family)
		return false;
	return prefix_matches(net->addr, addr, net->prefix);
}

bool cidr_list_contains(const struct cidr_list *list, const struct sockaddr *sa)
{
	for (size_t i = 0; i < list->n; i++)
		if (cidr_contains(&list->items[i], sa))
			return true;
	return false;
}

void cidr_list_add(struct cidr_list *list, const struct cidr *c)
{
	/* The capacity is implicit: the array doubles whenever n reaches a
	 * power of two, so n adds cost O(n) copies in all. */
	if (list->n == 0 || (list->n & (list->n - 1)) == 0)
		list->items = xreallocarray(list->items, list->n ? list->n * 2 : 1, sizeof(*list->items));
	list->items[list->n++] = *c;
}

void cidr_list_free(struct cidr_list *list)
{
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
