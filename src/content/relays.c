/*
 * Received fields as relays (relays.h). A field reads "from A (B) by C
 * (D) with P id I for <R>; date": what A and B hold differs per MTA, so
 * the parser looks for the pieces each writes rather than for one
 * grammar:
 *
 *   Postfix   from HELO (RDNS [IP])            unknown for no verified name
 *   Sendmail  from HELO (ident@RDNS [IP])      ([IP]) for no name
 *   Exim      from RDNS ([IP] helo=HELO)       [IP] (helo=HELO) for no name
 *   qmail     from RDNS (HELO helo) (IP)       unknown for no name
 *   Exchange  from HELO (IP) by ... Microsoft SMTP Server
 *   Gmail     from HELO (RDNS. [IP])
 *   ours      from HELO (RDNS [IP])            as Postfix (smtp/session_queue.c)
 *
 * The values are then made safe for the pseudo-header's text: blanks
 * and brackets inside one become '!', as SpamAssassin does, so that a
 * rule's "rdns=\S+" cannot run into the next key.
 */
#include "content/relays.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "content/check.h"

/* --- addresses ------------------------------------------------------------- */

static bool ip_valid(const char *ip)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, ip, buf) == 1 || inet_pton(AF_INET6, ip, buf) == 1;
}

/* ip as a socket address for the CIDR lists; false if it is none. */
static bool ip_sockaddr(const char *ip, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)ss;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

/* RFC 1918, loopback, link-local, CGN (RFC 6598); ULA and link-local v6. */
static const char *const private_nets[] = {
	"10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
	"::1/128", "fc00::/7", "fe80::/10",
};

static bool in_nets(const char *ip, const char *const *nets, size_t n)
{
	struct sockaddr_storage ss;
	if (!ip_sockaddr(ip, &ss))
		return false;
	for (size_t i = 0; i < n; i++) {
		struct cidr c;
		if (cidr_parse(nets[i], strlen(nets[i]), &c) && cidr_contains(&c, (struct sockaddr *)&ss))
			return true;
	}
	return false;
}

bool relays_ip_private(const char *ip)
{
	return in_nets(ip, private_nets, sizeof(private_nets) / sizeof(private_nets[0]));
}

static bool ip_in_list(const char *ip, const struct cidr_list *l)
{
	struct sockaddr_storage ss;
	return l && ip_sockaddr(ip, &ss) && cidr_list_contains(l, (struct sockaddr *)&ss);
}

/* --- the pieces of one field --------------------------------------------------- */

/* v[0..len) with runs of white space made one space, trimmed, cut at the
 * last ';' (the date) and at RELAYS_LINE_MAX. */
static size_t normalise(const char *v, size_t len, char *out)
{
	size_t n = 0;
	bool space = true;  /* drops leading blanks */
	for (size_t i = 0; i < len && n < RELAYS_LINE_MAX - 1; i++) {
		unsigned char c = (unsigned char)v[i];
		if (isspace(c)) {
			if (!space)
				out[n++] = ' ';
			space = true;
			continue;
		}
		out[n++] = (char)c;
		space = false;
	}
	out[n] = '\0';
	char *semi = strrchr(out, ';');
	if (semi)
		*semi = '\0';
	n = strlen(out);
	while (n && (out[n - 1] == ' ' || out[n - 1] == ';'))
		out[--n] = '\0';
	return n;
}

/* The token after the first occurrence of key in s (case-insensitive if
 * fold), up to a character in stop, into out; false if key is absent. */
static bool token_after(const char *s, const char *key, bool fold, const char *stop, char *out, size_t cap)
{
	const char *p = fold ? strcasestr(s, key) : strstr(s, key);
	if (!p)
		return false;
	p += strlen(key);
	size_t n = strcspn(p, stop);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return n > 0;
}

/* Characters of a HELO or host name as SpamAssassin takes them after
 * "helo=" or "HELO ". */
#define NAME_STOP " ();,<>[]\"'"

static void find_helo(const char *s, struct relay *r)
{
	if (!token_after(s, "helo=", true, NAME_STOP, r->helo, sizeof(r->helo)) &&
	    !token_after(s, "(HELO ", false, NAME_STOP, r->helo, sizeof(r->helo)))
		token_after(s, "(EHLO ", false, NAME_STOP, r->helo, sizeof(r->helo));
}

/* RFC 3848's "with ESMTPA" and the like, and the other marks of a
 * submission that logged in. */
static void find_auth(const char *s, struct relay *r)
{
	static const char *const protocols[] = {
		"ESMTPA", "ESMTPSA", "LMTPA", "LMTPSA", "UTF8SMTPA", "UTF8SMTPSA", "UTF8LMTPA", "UTF8LMTPSA",
		"ASMTP", "HTTP", "HTTPS", "HTTPU",
	};
	char with[32];
	if (token_after(s, " with ", true, " ();", with, sizeof(with)))
		for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
			if (strcasecmp(with, protocols[i]) == 0) {
				snprintf(r->auth, sizeof(r->auth), "%s", with);
				return;
			}
	if (strstr(s, "(Authenticated sender: "))
		snprintf(r->auth, sizeof(r->auth), "Postfix");
	else if (strstr(s, "(authenticated bits="))
		snprintf(r->auth, sizeof(r->auth), "Sendmail");
}

static void find_envfrom(const char *s, struct relay *r)
{
	char buf[sizeof(r->envfrom)];
	if (!token_after(s, "envelope-from ", true, " );", buf, sizeof(buf)) &&
	    !token_after(s, "envelope-sender ", true, " );", buf, sizeof(buf)))
		return;
	const char *p = buf;
	while (*p == '<')
		p++;
	size_t n = strcspn(p, ">");
	snprintf(r->envfrom, sizeof(r->envfrom), "%.*s", (int)n, p);
}

/* "[1.2.3.4]", "[IPv6:2001:db8::1]" or a bare "1.2.3.4" at p (n bytes)
 * into ip, if it is an address. */
static bool take_ip(const char *p, size_t n, char *ip, size_t cap)
{
	if (n && *p == '[') {
		p++;
		n--;
		const char *close = memchr(p, ']', n);
		if (!close)
			return false;
		n = (size_t)(close - p);
	}
	if (n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		p += 5;
		n -= 5;
	}
	if (n == 0 || n >= cap)
		return false;
	memcpy(ip, p, n);
	ip[n] = '\0';
	if (strncasecmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.'))  /* IPv4-mapped: the IPv4 form */
		memmove(ip, ip + 7, strlen(ip + 7) + 1);
	if (ip_valid(ip))
		return true;
	ip[0] = '\0';
	return false;
}

/* The from part's first word (name) and what its comments hold: the
 * address in brackets, the name before it (reverse DNS, with an
 * "ident@" in front), a bare address in parentheses (qmail, Exchange). */
struct from_part {
	char name[256];
	bool bare_ip;        /* the address was in parentheses without brackets */
	bool name_before_ip; /* a host name stood before the bracketed address */
	bool bare_bracket;   /* "([IP])": Sendmail's way of saying it found no name */
};

static void copy_word(char *out, size_t cap, const char *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Inside one comment c[0..n): "[IP]", "NAME [IP]", "NAME[IP]", "ident@NAME [IP]", or "IP". */
static void read_comment(const char *c, size_t n, struct relay *r, struct from_part *fp)
{
	const char *open = memchr(c, '[', n);
	if (open) {
		const char *close = memchr(open, ']', n - (size_t)(open - c));
		if (!close || !take_ip(open, (size_t)(close - open) + 1, r->ip, sizeof(r->ip)))
			return;
		size_t wn = (size_t)(open - c);
		while (wn && c[wn - 1] == ' ')
			wn--;
		const char *w = c;
		const char *at = memchr(w, '@', wn);
		if (at) {
			copy_word(r->ident, sizeof(r->ident), w, (size_t)(at - w));
			wn -= (size_t)(at - w) + 1;
			w = at + 1;
		}
		/* Postfix's "unknown [IP]": the MTA looked and found no name. */
		if (wn == 7 && strncasecmp(w, "unknown", 7) == 0)
			r->rdns_looked_up = true;
		fp->bare_bracket = wn == 0;
		if (wn && !memchr(w, ' ', wn)) {
			copy_word(r->rdns, sizeof(r->rdns), w, wn);
			fp->name_before_ip = true;
		}
		return;
	}
	size_t wn = n;
	const char *w = c;
	const char *at = memchr(c, '@', n);
	if (at) {  /* qmail: (ident@IP) */
		wn -= (size_t)(at - c) + 1;
		w = at + 1;
	}
	if (take_ip(w, wn, r->ip, sizeof(r->ip)))
		fp->bare_ip = true;
}

/* from-part s (between "from " and " by "). */
static void read_from(const char *s, size_t n, struct relay *r, struct from_part *fp)
{
	size_t wn = strcspn(s, " (");
	if (wn > n)
		wn = n;
	copy_word(fp->name, sizeof(fp->name), s, wn);
	for (size_t i = wn; i < n && !r->ip[0]; i++) {
		if (s[i] != '(')
			continue;
		const char *close = memchr(s + i, ')', n - i);
		size_t cn = close ? (size_t)(close - (s + i)) - 1 : n - i - 1;
		read_comment(s + i + 1, cn, r, fp);
		i += cn;
	}
	if (!r->ip[0]) {  /* "from [IP]", Exim's "[IP]:port", "from HELO [IP] by" */
		const char *open = memchr(s, '[', n);
		const char *close = open ? memchr(open, ']', n - (size_t)(open - s)) : NULL;
		if (close)
			take_ip(open, (size_t)(close - open) + 1, r->ip, sizeof(r->ip));
	}
	if (!r->ip[0] && ip_valid(fp->name))  /* qmail's "from IP (HELO x)" */
		take_ip(fp->name, strlen(fp->name), r->ip, sizeof(r->ip));
	char *ident = strstr(s, "ident=");
	if (ident && (size_t)(ident - s) < n)
		copy_word(r->ident, sizeof(r->ident), ident + 6, strcspn(ident + 6, NAME_STOP));
}

/* Who is who of the names: with an explicit HELO (Exim's helo=, qmail's
 * HELO), the first word is the verified name; otherwise it is the HELO,
 * and the name is what stood before the address, except in the forms
 * where the first word is both (Exim and qmail when they equal). */
static void assign_names(struct relay *r, const struct from_part *fp, bool explicit_helo, bool name_is_rdns)
{
	bool name_is_host = fp->name[0] && fp->name[0] != '[' && strcasecmp(fp->name, "unknown") != 0 &&
			    !ip_valid(fp->name);
	if (explicit_helo || name_is_rdns) {
		if (name_is_host && !fp->name_before_ip)
			snprintf(r->rdns, sizeof(r->rdns), "%s", fp->name);
		if (!explicit_helo)
			snprintf(r->helo, sizeof(r->helo), "%s", fp->name);
	} else {
		snprintf(r->helo, sizeof(r->helo), "%s", fp->name);
	}
	size_t n = strlen(r->rdns);
	while (n && r->rdns[n - 1] == '.')  /* Gmail writes the name with its root dot */
		r->rdns[--n] = '\0';
	if (strcasecmp(r->rdns, "unknown") == 0 || r->rdns[0] == '[' || strncasecmp(r->rdns, "<unknown", 8) == 0)
		r->rdns[0] = '\0';
}

/* SpamAssassin's safe form: a value never holds a blank or a bracket. */
static void make_safe(char *s)
{
	for (; *s; s++)
		if (strchr(" \t#[]()<>|", *s) || (unsigned char)*s < 0x20)
			*s = '!';
}

static bool local_form(const char *s)
{
	/* "from user by host (Postfix, from userid 0)", Exim's "with local",
	 * and "from X by Y" with nothing else: nothing on the network to judge. */
	if (strstr(s, " with local ") || strstr(s, "@localhost) by ") || strncasecmp(s, "from userid ", 12) == 0 ||
	    strstr(s, " with qmail-scanner"))  /* a scanner's note on the hop below, not a hop */
		return true;
	size_t first = strcspn(s + 5, " ");
	if (memchr(s + 5, '@', first) && strncmp(s + 5 + first, " by ", 4) == 0)  /* "from user@host by" */
		return true;
	const char *by = strcasestr(s, " by ");
	return by && !memchr(s, '(', (size_t)(by - s)) && !memchr(s, '[', (size_t)(by - s)) &&
	       !strchr(by + 4, ' ');
}

enum relay_parse relays_parse_line(const char *v, size_t len, struct relay *out)
{
	char s[RELAYS_LINE_MAX];
	memset(out, 0, sizeof(*out));
	normalise(v, len, s);
	const char *from = s[0] == '(' ? s + 1 : s;
	if (strncasecmp(from, "from ", 5) != 0)
		return RELAY_LOCAL;
	from += 5;
	if (strstr(s, "with POP3") || strstr(s, "with IMAP"))
		return RELAY_FETCHER;
	if (local_form(s))
		return RELAY_LOCAL;
	const char *by = strcasestr(from, " by ");
	size_t from_len = by ? (size_t)(by - from) : strlen(from);
	bool by_comment = false;  /* "by HOST (" as Sendmail writes it */
	if (by && token_after(by, " by ", true, " ();", out->by, sizeof(out->by)))
		by_comment = strncmp(by + 4 + strlen(out->by), " (", 2) == 0;
	char id[sizeof(out->id)];
	if (token_after(s, " id ", false, " ;", id, sizeof(id))) {
		const char *p = id + (id[0] == '<');
		snprintf(out->id, sizeof(out->id), "%.*s", (int)strcspn(p, "<>"), p);
	}
	find_helo(s, out);
	bool explicit_helo = out->helo[0] != '\0';
	find_auth(s, out);
	find_envfrom(s, out);
	struct from_part fp = { 0 };
	read_from(from, from_len, out, &fp);
	out->rdns_looked_up |= fp.bare_bracket && by_comment;
	/* A bare address in parentheses: Exchange's "from HELO (IP)", else
	 * qmail's "from NAME (IP)" where the name it found is the HELO too. */
	bool exchange = strstr(s, " with Microsoft SMTP Server") || strstr(s, " with mapi id ");
	bool exim = strstr(s, "Exim ") != NULL, qmail = fp.bare_ip && !exchange;
	assign_names(out, &fp, explicit_helo, !fp.name_before_ip && (exim || qmail));
	if (exchange)
		out->id[0] = '\0';  /* its "id" is the server's version, as SpamAssassin reads it */
	if (!out->ip[0] || !out->by[0])
		return RELAY_UNPARSEABLE;
	make_safe(out->rdns);
	make_safe(out->helo);
	make_safe(out->by);
	make_safe(out->ident);
	make_safe(out->envfrom);
	make_safe(out->id);
	out->ip_private = relays_ip_private(out->ip);
	return RELAY_PARSED;
}

/* --- trust ---------------------------------------------------------------------- */

struct trust_walk {
	bool in_trusted, in_internal;
};

static bool configured(const struct cidr_list *l)
{
	return l && l->n > 0;
}

/* SpamAssassin counts 127/8 and ::1 as trusted and internal always. */
static bool in_networks(const char *ip, const struct cidr_list *l)
{
	static const char *const loopback[] = { "127.0.0.0/8", "::1/128" };
	return ip_in_list(ip, l) || in_nets(ip, loopback, 2);
}

/* One relay, newest first: does trust reach past it? */
static void judge(struct trust_walk *w, struct relay *r, bool gateway_hop, const struct relay_trust *t)
{
	if (!w->in_trusted)
		return;
	bool have_trusted = configured(t->trusted), have_internal = configured(t->internal);
	const struct cidr_list *trusted = have_trusted ? t->trusted : t->internal;
	const struct cidr_list *internal = have_internal ? t->internal : t->trusted;
	if (gateway_hop) {
		/* smtpd saw this client: its word counts, not the address's look. */
		w->in_trusted = t->client_trusted || r->auth[0] || ip_in_list(r->ip, trusted);
		w->in_internal = w->in_trusted && (t->client_trusted || r->auth[0] || ip_in_list(r->ip, internal));
	} else if (!have_trusted && !have_internal) {
		if (!r->ip_private && !r->auth[0])
			w->in_trusted = w->in_internal = false;
	} else if (!r->auth[0] && !in_networks(r->ip, trusted)) {
		w->in_trusted = w->in_internal = false;
	} else if (w->in_internal && !r->auth[0] && !in_networks(r->ip, internal)) {
		w->in_internal = false;
	}
}

/* Is the relay's address the SMTP client's? smtpd may write an IPv4
 * client in its mapped IPv6 form; the relay holds the IPv4 form. */
static bool is_client(const char *ip, const char *client_ip)
{
	char norm[64];
	struct sockaddr_storage a, b;
	if (!client_ip || !take_ip(client_ip, strlen(client_ip), norm, sizeof(norm)))
		return false;
	if (!ip_sockaddr(ip, &a) || !ip_sockaddr(norm, &b) || a.ss_family != b.ss_family)
		return false;
	if (a.ss_family == AF_INET)
		return memcmp(&((struct sockaddr_in *)(void *)&a)->sin_addr, &((struct sockaddr_in *)(void *)&b)->sin_addr,
			      4) == 0;
	return memcmp(&((struct sockaddr_in6 *)(void *)&a)->sin6_addr, &((struct sockaddr_in6 *)(void *)&b)->sin6_addr,
		      16) == 0;
}

void relays_build(struct relays *out, const char *hdr, size_t len, const struct relay_trust *t)
{
	memset(out, 0, sizeof(*out));
	struct trust_walk w = { true, true };
	bool first = true;
	for (size_t pos = 0; pos < len && out->received < RELAYS_MAX;) {
		size_t end = pos + content_field_len(hdr, len, pos), voff;
		if (content_field_is(hdr + pos, end - pos, "Received", &voff)) {
			out->received++;
			struct relay *r = &out->r[out->n];
			enum relay_parse p = relays_parse_line(hdr + pos + voff, end - pos - voff, r);
			out->unparseable += p == RELAY_UNPARSEABLE;
			if (p == RELAY_FETCHER && (out->n == 0 || out->r[out->n - 1].trusted))
				out->n = 0;
			if (p == RELAY_PARSED) {
				bool gateway_hop = first && is_client(r->ip, t->client_ip);
				judge(&w, r, gateway_hop, t);
				r->trusted = w.in_trusted;
				r->internal = w.in_internal;
				out->n++;
			}
			first = false;
		}
		pos = end;
	}
}

/* --- the pseudo-headers ------------------------------------------------------- */

static bool in_view(const struct relay *r, enum relays_view view)
{
	switch (view) {
	case RELAYS_TRUSTED:
		return r->trusted;
	case RELAYS_UNTRUSTED:
		return !r->trusted;
	case RELAYS_INTERNAL:
		return r->internal;
	default:
		return !r->internal;
	}
}

size_t relays_text(const struct relays *rs, enum relays_view view, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < rs->n; i++) {
		const struct relay *r = &rs->r[i];
		if (!in_view(r, view))
			continue;
		int n = snprintf(out + used, cap - used,
				 "%s[ ip=%s rdns=%s helo=%s by=%s ident=%s envfrom=%s intl=%d id=%s auth=%s msa=0 ]",
				 used ? " " : "", r->ip, r->rdns, r->helo, r->by, r->ident, r->envfrom, r->internal ? 1 : 0,
				 r->id, r->auth);
		if (n < 0 || (size_t)n >= cap - used) {
			out[used] = '\0';  /* this one does not fit: left out whole */
			break;
		}
		used += (size_t)n;
	}
	return used;
}

bool relays_view_named(const char *name, enum relays_view *view)
{
	static const struct { const char *name; enum relays_view view; } names[] = {
		{ "X-Spam-Relays-Trusted", RELAYS_TRUSTED },
		{ "X-Spam-Relays-Untrusted", RELAYS_UNTRUSTED },
		{ "X-Spam-Relays-Internal", RELAYS_INTERNAL },
		{ "X-Spam-Relays-External", RELAYS_EXTERNAL },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0) {
			*view = names[i].view;
			return true;
		}
	return false;
}

/* --- trusted_networks lines --------------------------------------------------- */

/* SpamAssassin's short IPv4 forms: "10.", "192.168" (the network of
 * the octets given) and "192.168/16", "127/8" (octets left out are 0). */
static bool dotted_prefix(const char *w, size_t n, struct cidr *c)
{
	const char *slash = memchr(w, '/', n);
	size_t an = slash ? (size_t)(slash - w) : n;
	if (an && w[an - 1] == '.')
		an--;
	unsigned octets = an ? 1 : 0;
	for (size_t i = 0; i < an; i++)
		if (w[i] == '.')
			octets++;
		else if (!isdigit((unsigned char)w[i]))
			return false;
	if (octets == 0 || octets > 4 || an > 15)
		return false;
	char buf[48];
	size_t k = (size_t)snprintf(buf, sizeof(buf), "%.*s", (int)an, w);
	for (unsigned i = octets; i < 4; i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, ".0");
	if (slash)
		snprintf(buf + k, sizeof(buf) - k, "%.*s", (int)(n - an), w + an);
	else
		snprintf(buf + k, sizeof(buf) - k, "/%u", octets * 8);
	return n - an < 8 && cidr_parse(buf, strlen(buf), c);
}

bool relays_parse_networks(const char *text, struct cidr_list *out, char *bad, size_t badlen)
{
	for (const char *p = text; *p;) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == 0)
			break;
		struct cidr c;
		if (*p == '!' || (!cidr_parse(p, n, &c) && !dotted_prefix(p, n, &c))) {
			snprintf(bad, badlen, "%.*s", (int)n, p);
			return false;
		}
		cidr_list_add(out, &c);
		p += n;
	}
	return true;
}
