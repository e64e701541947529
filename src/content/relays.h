/*
 * Relay analysis (issue 11): the Received fields of a message read as the
 * chain of hand-overs that brought it, newest first, each with the
 * address and names the receiving MTA recorded; and where on that chain
 * the trusted part (our own hosts, trusted_networks) ends. SpamAssassin's
 * rules read this as the pseudo-headers X-Spam-Relays-Trusted,
 * -Untrusted, -Internal and -External (relays_text) and through the
 * RelayEval tests (rules_eval_relay.c).
 *
 * Pure logic on bounded input: at most RELAYS_MAX relays, every value cut
 * at a fixed size, nothing allocated in proportion to the message.
 */
#ifndef MW_CONTENT_RELAYS_H
#define MW_CONTENT_RELAYS_H

#include <stdbool.h>
#include <stddef.h>

#include "net/cidr.h"

/* Received fields looked at; a message with more keeps the newest. */
#define RELAYS_MAX 40
/* A Received field's text taken into account (unfolded). */
#define RELAYS_LINE_MAX 2048

struct relay {
	char ip[64];        /* "" if the field named none */
	char rdns[256];     /* reverse DNS name the receiving MTA verified, "" if none */
	char helo[256];
	char by[256];
	char ident[64];
	char envfrom[256];
	char id[128];
	char auth[64];      /* the SMTP AUTH evidence ("ESMTPA", ...), "" if none */
	bool ip_private;    /* a private, loopback or link-local address */
	bool rdns_looked_up; /* the MTA wrote "unknown": it looked, and found no name */
	bool trusted, internal;
};

/* What a Received field is. */
enum relay_parse {
	RELAY_PARSED,       /* a hand-over from an address */
	RELAY_LOCAL,        /* not a hand-over over the network (local submission, "by" alone) */
	RELAY_UNPARSEABLE,  /* a "from" field whose address or receiver cannot be found */
	/* A mail fetcher's (fetchmail, getmail: "with POP3|IMAP"): where it
	 * stands in our trusted part, the relays above it were the fetch's
	 * own way to us and are forgotten; the chain starts again below. */
	RELAY_FETCHER,
};

/* One Received field's value v[0..len) (folded or not) into *out. */
enum relay_parse relays_parse_line(const char *v, size_t len, struct relay *out);

/* Where trust ends (SpamAssassin's trusted_networks and
 * internal_networks). Without networks, the trust is inferred: relays
 * from private addresses or that logged in are ours, up to the first
 * that is not. The gateway knows its own hand-over exactly: the newest
 * relay, when its address is the SMTP client's (client_ip), is trusted
 * exactly when smtpd trusted the client (client_trusted: in the
 * gateway's trusted_networks, or logged in). */
struct relay_trust {
	const struct cidr_list *trusted;   /* NULL or empty: not configured */
	const struct cidr_list *internal;
	const char *client_ip;             /* NULL or "": not from the gateway */
	bool client_trusted;
};

struct relays {
	struct relay r[RELAYS_MAX];        /* newest first */
	size_t n;
	size_t unparseable;
	size_t received;                   /* Received fields seen (up to RELAYS_MAX counted as relays) */
};

/* The Received fields of the header section hdr[0..len), judged by t. */
void relays_build(struct relays *out, const char *hdr, size_t len, const struct relay_trust *t);

enum relays_view { RELAYS_TRUSTED, RELAYS_UNTRUSTED, RELAYS_INTERNAL, RELAYS_EXTERNAL };

/* The pseudo-header's value for a view: one "[ ip=... rdns=... helo=...
 * by=... ident=... envfrom=... intl=0|1 id=... auth=... msa=0 ]" per
 * relay in that view, newest first, separated by spaces; "" if none.
 * NULL-terminated into out (at most cap bytes; relays that do not fit
 * are left out whole). Returns the length. */
size_t relays_text(const struct relays *rs, enum relays_view view, char *out, size_t cap);

/* Which view a pseudo-header name is ("X-Spam-Relays-External", ...); false: none. */
bool relays_view_named(const char *name, enum relays_view *view);

/* Is ip (text) in a private, loopback or link-local range? */
bool relays_ip_private(const char *ip);

/* A rule file's "trusted_networks" / "internal_networks" value: networks
 * separated by spaces, each an address, a CIDR network or a dotted prefix
 * ("10." or "192.168"); false (with the offending word in bad) if one is
 * none of these or excludes ("!net"), which we do not support. */
bool relays_parse_networks(const char *text, struct cidr_list *out, char *bad, size_t badlen);

#endif
