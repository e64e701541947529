/*
 * The routing table (TOP-1): which next hop takes mail for a domain.
 * A key "example.org" matches that domain exactly; a key ".example.org"
 * matches every subdomain of it (a.example.org, b.a.example.org) but not
 * example.org itself. The exact match wins over a wildcard; among
 * wildcards, the longest (most specific) wins. Domains compare without
 * regard to ASCII case.
 *
 * Next hops:  smtp://host:port   smtps://host:port   lmtp://host:port
 * lmtp:unix:/socket/path   maildir:/path (or a path relative to the state
 * directory). smtps:// is SMTP over implicit TLS (RFC 8314), port 465 by
 * default; its certificate must be valid for host (queue/deliver.c).
 */
#ifndef MW_POLICY_ROUTE_H
#define MW_POLICY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum route_kind { ROUTE_SMTP, ROUTE_LMTP, ROUTE_MAILDIR };

struct route {
	char *domain;          /* lower case, without the leading dot */
	bool subdomains;       /* key was ".domain" */
	enum route_kind kind;
	char *host;            /* SMTP/LMTP: host name or address (brackets removed for IPv6) */
	char *port;            /* SMTP/LMTP: decimal port, default "25" (SMTP) / "24" (LMTP) */
	char *path;            /* MAILDIR: directory as configured; LMTP over a unix socket: its path */
	char *spec;            /* the next hop as written, for logs */
	bool implicit_tls;     /* SMTP: smtps://, TLS before the greeting */
};

/* Parse a next-hop spec into r (host/port/path/spec filled, domain untouched).
 * On error returns false and sets *why to a static description. */
bool route_parse_nexthop(const char *spec, struct route *r, const char **why);

/* Find the route for a domain (len bytes, any case) in a table of n routes,
 * or NULL if none matches. */
const struct route *route_lookup(const struct route *routes, size_t n, const char *domain, size_t len);

void route_free(struct route *r);

/* routes: and rewrite_table for the loader
 * (policy/config.c; master/sections.c lists it). */
struct config_section;
extern const struct config_section policy_config_section;

#endif
