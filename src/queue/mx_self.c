/*
 * MX hosts that are ourselves, by address. See mx_self.h.
 */
#include "queue/mx_self.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "config/config.h"
#include "queue/config.h"

/* An address as compared here: IPv4 (an IPv4-mapped IPv6 address folded
 * into it, since a connection to one reaches the IPv4 address) or IPv6. */
struct bare_addr {
	int family;
	unsigned char b[16];
};

static void bare_from_in6(const struct in6_addr *a, struct bare_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		out->family = AF_INET;
		memcpy(out->b, a->s6_addr + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->b, a->s6_addr, 16);
	}
}

static bool bare_of(const struct sockaddr_storage *ss, struct bare_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->b, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, 4);
		return true;
	}
	if (ss->ss_family != AF_INET6)
		return false;
	bare_from_in6(&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr, out);
	return true;
}

/* A listener's numeric address (config/config.h). */
static bool bare_parse(const char *text, struct bare_addr *out)
{
	struct in6_addr a6;
	memset(out, 0, sizeof(*out));
	if (!text)
		return false;
	if (inet_pton(AF_INET, text, out->b) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, &a6) != 1)
		return false;
	bare_from_in6(&a6, out);
	return true;
}

static bool all_zero(const struct bare_addr *a)
{
	static const unsigned char zero[16];
	return memcmp(a->b, zero, a->family == AF_INET ? 4 : 16) == 0;
}

/* 127.0.0.0/8 and ::1; 0.0.0.0/8 and :: ("this host", RFC 1122
 * 3.2.1.3; RFC 4291 2.5.2), which a connect(2) on Linux also reaches. */
static bool is_loopback(const struct bare_addr *a)
{
	static const unsigned char one6[16] = { [15] = 1 };
	if (a->family == AF_INET)
		return a->b[0] == 127 || a->b[0] == 0;
	return all_zero(a) || memcmp(a->b, one6, 16) == 0;
}

enum mx_self mx_self_addr(const struct config *c, const struct sockaddr_storage *ss)
{
	struct bare_addr a, l;
	if (!bare_of(ss, &a))
		return MX_SELF_NO;
	bool loopback = is_loopback(&a);
	for (size_t i = 0; i < c->n_listeners; i++) {
		if (c->listeners[i].port != c->queue->mx_port || !bare_parse(c->listeners[i].address, &l))
			continue;
		bool same = l.family == a.family && memcmp(l.b, a.b, sizeof(l.b)) == 0;
		if (same || (loopback && all_zero(&l)))
			return MX_SELF_LISTENER;
	}
	return loopback && !c->queue->mx_allow_loopback ? MX_SELF_LOOPBACK : MX_SELF_NO;
}

const char *mx_self_name(enum mx_self why)
{
	switch (why) {
	case MX_SELF_LOOPBACK: return "loopback address";
	case MX_SELF_LISTENER: return "address of a listener of this gateway";
	case MX_SELF_NO: break;
	}
	return "not ourselves";
}
