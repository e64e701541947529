/*
 * Routing table: next-hop parsing (configuration load, in the master) and
 * lookup by recipient domain (queue). Pure functions, no I/O.
 */
#include "policy/route.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* Longer specs are refused outright: nothing sensible is this long, and
 * the bound keeps every later copy small. */
#define ROUTE_SPEC_MAX 4096
#define ROUTE_HOST_MAX 253   /* RFC 1035 2.3.4, without the trailing dot */

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive (ASCII only) comparison of n bytes; NUL is an ordinary byte. */
static bool ascii_caseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

static bool has_prefix_nocase(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return strlen(s) >= n && ascii_caseeq(s, prefix, n);
}

/* A host name as in RFC 1123 2.1: labels of letters, digits and hyphens,
 * 1..63 bytes, no hyphen at either end. A dotted IPv4 address also passes. */
static bool host_name_valid(const char *p, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > ROUTE_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (c == '.') {
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && p[len - 1] != '-';
}

/* Decimal 1..65535, no sign, no leading zero. */
static bool port_valid(const char *p, size_t len)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || p[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* smtp://, smtps:// and lmtp:// next hops: host, [IPv6] or host:port, nothing else
 * (no user info, no path: they would be silently ignored otherwise). */
static bool parse_network(const char *auth, const char *default_port, struct route *r, const char **why)
{
	const char *host, *port, *end = auth + strlen(auth);
	size_t host_len;

	if (*auth == '\0') {
		*why = "missing host";
		return false;
	}
	if (strpbrk(auth, "/?#@")) {
		*why = "unexpected text after the host (no user, path or query allowed)";
		return false;
	}
	if (*auth == '[') {
		const char *close = strchr(auth, ']');
		char buf[INET6_ADDRSTRLEN];
		unsigned char bin[16];

		if (!close) {
			*why = "missing ']' after the IPv6 address";
			return false;
		}
		host = auth + 1;
		host_len = (size_t)(close - host);
		if (host_len == 0 || host_len >= sizeof(buf)) {
			*why = "bad IPv6 address in brackets";
			return false;
		}
		memcpy(buf, host, host_len);
		buf[host_len] = '\0';
		if (inet_pton(AF_INET6, buf, bin) != 1) {
			*why = "bad IPv6 address in brackets";
			return false;
		}
		if (close[1] != '\0' && close[1] != ':') {
			*why = "unexpected text after the host (no user, path or query allowed)";
			return false;
		}
		port = close[1] == ':' ? close + 2 : NULL;
	} else {
		const char *colon = strchr(auth, ':');

		if (colon && strchr(colon + 1, ':')) {
			*why = "IPv6 address must be written in brackets, e.g. smtp://[2001:db8::1]:25";
			return false;
		}
		host = auth;
		host_len = colon ? (size_t)(colon - auth) : (size_t)(end - auth);
		if (host_len == 0) {
			*why = "missing host";
			return false;
		}
		if (!host_name_valid(host, host_len)) {
			*why = "bad host name (letters, digits, hyphens and dots, or an IPv4 address)";
			return false;
		}
		port = colon ? colon + 1 : NULL;
	}
	if (port && !port_valid(port, (size_t)(end - port))) {
		*why = "bad port (use a number from 1 to 65535)";
		return false;
	}
	r->host = xstrndup(host, host_len);
	r->port = xstrdup(port ? port : default_port);
	r->path = NULL;
	return true;
}

/* maildir:PATH. The path is used by the queue to create files, so ".."
 * components are refused (a route must not point outside the tree it
 * names) and so are control characters (they end up in logs). */
static bool parse_maildir(const char *path, struct route *r, const char **why)
{
	const char *p;

	if (*path == '\0') {
		*why = "empty maildir path";
		return false;
	}
	for (p = path; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "maildir path contains control characters";
			return false;
		}
	}
	for (p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*why = "maildir path must not contain a \"..\" component";
			return false;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	r->host = NULL;
	r->port = NULL;
	r->path = xstrdup(path);
	return true;
}

bool route_parse_nexthop(const char *spec, struct route *r, const char **why)
{
	struct route tmp = *r;
	bool ok;

	tmp.implicit_tls = false;  /* smtps:// below sets it */

	if (strlen(spec) > ROUTE_SPEC_MAX) {
		*why = "next hop too long";
		return false;
	}
	if (has_prefix_nocase(spec, "smtp://")) {
		tmp.kind = ROUTE_SMTP;
		ok = parse_network(spec + 7, "25", &tmp, why);
	} else if (has_prefix_nocase(spec, "smtps://")) {
		/* RFC 8314 3.3: TLS from the first byte, submission port 465. */
		tmp.kind = ROUTE_SMTP;
		tmp.implicit_tls = true;
		ok = parse_network(spec + 8, "465", &tmp, why);
	} else if (has_prefix_nocase(spec, "lmtp:unix:")) {
		/* LMTP over a unix socket (RFC 2033 is usually spoken locally):
		 * an absolute path that fits a sockaddr_un. */
		tmp.kind = ROUTE_LMTP;
		const char *path = spec + 10;
		if (path[0] != '/' || strlen(path) >= 108) {
			*why = "lmtp:unix: needs an absolute socket path shorter than 108 bytes";
			ok = false;
		} else {
			ok = parse_maildir(path, &tmp, why);
		}
	} else if (has_prefix_nocase(spec, "lmtp://")) {
		tmp.kind = ROUTE_LMTP;
		ok = parse_network(spec + 7, "24", &tmp, why);
	} else if (has_prefix_nocase(spec, "maildir:")) {
		tmp.kind = ROUTE_MAILDIR;
		ok = parse_maildir(spec + 8, &tmp, why);
	} else {
		*why = "unknown scheme (use smtp://, smtps://, lmtp:// or maildir:)";
		ok = false;
	}
	if (!ok)
		return false;
	tmp.spec = xstrdup(spec);
	*r = tmp;
	return true;
}

/*
 * Exact key first; otherwise the longest ".suffix" key whose suffix ends
 * the domain at a label boundary. The domain is not normalised: a
 * trailing dot or an empty label simply fails to match.
 */
const struct route *route_lookup(const struct route *routes, size_t n, const char *domain, size_t len)
{
	const struct route *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < n; i++) {
		const struct route *r = &routes[i];
		size_t dlen = strlen(r->domain);

		if (!r->subdomains) {
			if (dlen == len && ascii_caseeq(domain, r->domain, len))
				return r;
			continue;
		}
		if (dlen == 0) {
			/* A root wildcard matches every non-empty domain. */
			if (len > 0 && !best)
				best = r;
			continue;
		}
		if (len <= dlen + 1 || domain[len - dlen - 1] != '.')
			continue;
		if (!ascii_caseeq(domain + len - dlen, r->domain, dlen))
			continue;
		if (!best || dlen > best_len) {
			best = r;
			best_len = dlen;
		}
	}
	return best;
}

void route_free(struct route *r)
{
	free(r->domain);
	free(r->host);
	free(r->port);
	free(r->path);
	free(r->spec);
	r->domain = r->host = r->port = r->path = r->spec = NULL;
	r->implicit_tls = false;
}
