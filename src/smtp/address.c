/*
 * Envelope path parser (RFC 5321 4.1.2, RFC 6531 3.3). Pure function of
 * its input: no allocation, no global state, no logging; safe in any
 * process, before or after the privilege drop.
 *
 * The input is untrusted and NOT NUL-terminated: every read goes through
 * a cursor that checks the position against len first. The parser is a
 * single left-to-right pass (linear in len, no backtracking) and copies
 * into the fixed-size fields of struct address only after the length
 * limits have been checked.
 */
#include "smtp/address.h"
#include "util/utf8.h"

#include <arpa/inet.h>
#include <string.h>

struct cursor {
	const unsigned char *p;
	size_t len;
	size_t pos;
};

/* The byte under the cursor, or -1 at the end of the input. */
static int cur_peek(const struct cursor *c)
{
	return c->pos < c->len ? c->p[c->pos] : -1;
}

/* "Ran out of input" is a structural error (no closing ">"), anything
 * else is an error of the part being parsed. */
static enum address_error err_here(const struct cursor *c, enum address_error part)
{
	return c->pos < c->len ? part : ADDRESS_ERR_SYNTAX;
}

/* ASCII-only classes: <ctype.h> depends on the locale and would accept
 * 8-bit letters in some of them. */
static bool is_alpha(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_let_dig(int ch)
{
	return is_alpha(ch) || is_digit(ch);
}

static bool is_hex(int ch)
{
	return is_digit(ch) || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f');
}

static int to_lower(int ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
}

/* RFC 5322 3.2.3 atext, as used by RFC 5321 Atom. */
static bool is_atext(int ch)
{
	if (is_let_dig(ch))
		return true;
	switch (ch) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
	case '+': case '-': case '/': case '=': case '?': case '^': case '_':
	case '`': case '{': case '|': case '}': case '~':
		return true;
	default:
		return false;
	}
}

/* RFC 5321 4.1.3 dcontent = %d33-90 / %d94-126 (no "[", "\", "]"). */
static bool is_dcontent(int ch)
{
	return (ch >= 33 && ch <= 90) || (ch >= 94 && ch <= 126);
}

/* Case-insensitive compare of n bytes of p with the ASCII string s. */
static bool ascii_caseeq(const unsigned char *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (to_lower(p[i]) != to_lower((unsigned char)s[i]))
			return false;
	return true;
}

static enum address_error eat_utf8(struct cursor *c, bool utf8)
{
	size_t n;

	if (!utf8)
		return ADDRESS_ERR_UTF8;
	n = utf8_seq_len(c->p + c->pos, c->len - c->pos);
	if (n == 0)
		return ADDRESS_ERR_UTF8;
	c->pos += n;
	return ADDRESS_OK;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE (RFC 5321 4.1.2);
 * qtextSMTP = %d32-33 / %d35-91 / %d93-126 / UTF8-non-ascii,
 * quoted-pairSMTP = "\" %d32-126 (RFC 6531 does not extend it). */
static enum address_error parse_quoted(struct cursor *c, bool utf8)
{
	enum address_error e;

	c->pos++; /* the opening DQUOTE */
	while (c->pos < c->len) {
		unsigned char ch = c->p[c->pos];

		if (ch == '"') {
			c->pos++;
			return ADDRESS_OK;
		}
		if (ch == '\\') {
			c->pos++;
			if (c->pos >= c->len)
				break;
			ch = c->p[c->pos];
			if (ch >= 0x80)
				return utf8 ? ADDRESS_ERR_LOCAL : ADDRESS_ERR_UTF8;
			if (ch < 32 || ch > 126)
				return ADDRESS_ERR_LOCAL;
			c->pos++;
		} else if (ch >= 0x80) {
			if ((e = eat_utf8(c, utf8)) != ADDRESS_OK)
				return e;
		} else if (ch >= 32 && ch <= 126) {
			c->pos++; /* DQUOTE and "\" were handled above */
		} else {
			return ADDRESS_ERR_LOCAL; /* NUL, CR, LF, TAB, DEL, ... */
		}
	}
	return ADDRESS_ERR_SYNTAX; /* unterminated, hence no ">" either */
}

/* Local-part = Dot-string / Quoted-string; Dot-string = Atom *("." Atom):
 * no empty atom, so no leading, trailing or doubled dot. */
static enum address_error parse_local(struct cursor *c, bool utf8)
{
	enum address_error e;

	if (cur_peek(c) == '"')
		return parse_quoted(c, utf8);
	for (;;) {
		size_t atom = c->pos;

		while (c->pos < c->len) {
			unsigned char ch = c->p[c->pos];

			if (is_atext(ch))
				c->pos++;
			else if (ch >= 0x80) {
				if ((e = eat_utf8(c, utf8)) != ADDRESS_OK)
					return e;
			} else
				break;
		}
		if (c->pos == atom)
			return err_here(c, ADDRESS_ERR_LOCAL);
		if (cur_peek(c) != '.')
			return ADDRESS_OK;
		c->pos++;
	}
}

/*
 * Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
 * (RFC 5321 4.1.2), or a U-label with SMTPUTF8 (RFC 6531 3.3). A label
 * neither starts nor ends with "-" and holds at most 63 octets (RFC 1035
 * 2.3.4; counted in octets as written, which is stricter than the A-label
 * limit for U-labels). No empty label, hence no trailing dot: "b." and "b"
 * would otherwise be two spellings of one domain for the policy checks.
 */
static enum address_error parse_domain(struct cursor *c, bool utf8)
{
	size_t start = c->pos;
	enum address_error e;

	for (;;) {
		size_t label = c->pos, n;

		while (c->pos < c->len) {
			unsigned char ch = c->p[c->pos];

			if (is_let_dig(ch) || ch == '-')
				c->pos++;
			else if (ch >= 0x80) {
				if ((e = eat_utf8(c, utf8)) != ADDRESS_OK)
					return e;
			} else
				break;
		}
		n = c->pos - label;
		if (n == 0)
			return err_here(c, ADDRESS_ERR_DOMAIN);
		if (c->p[label] == '-' || c->p[c->pos - 1] == '-' || n > 63)
			return ADDRESS_ERR_DOMAIN;
		if (cur_peek(c) != '.')
			break;
		c->pos++;
	}
	if (c->pos - start > ADDRESS_DOMAIN_MAX)
		return ADDRESS_ERR_TOO_LONG;
	return ADDRESS_OK;
}

/* IPv4-address-literal = Snum 3("." Snum). inet_pton() also refuses
 * leading zeros ("010"), which inet_aton() and some resolvers would read
 * as octal: one literal, one meaning. */
static bool literal_ipv4_ok(const unsigned char *p, size_t n)
{
	char buf[sizeof("255.255.255.255")];
	struct in_addr a;

	if (n < 7 || n >= sizeof(buf))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]) && p[i] != '.')
			return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, &a) == 1;
}

/* IPv6-address-literal = "IPv6:" IPv6-addr (prefix already removed);
 * the RFC 5321 IPv6-addr forms are exactly what inet_pton() accepts. */
static bool literal_ipv6_ok(const unsigned char *p, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n < 2 || n >= sizeof(buf))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_hex(p[i]) && p[i] != ':' && p[i] != '.')
			return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* General-address-literal = Standardized-tag ":" 1*dcontent, with
 * Standardized-tag = Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig.
 * The caller has checked that every byte is dcontent and that a ":" exists. */
static bool literal_general_ok(const unsigned char *p, size_t n)
{
	const unsigned char *colon = memchr(p, ':', n);
	size_t tag = (size_t)(colon - p);

	if (tag == 0 || !is_let_dig(p[tag - 1]))
		return false;
	for (size_t i = 0; i < tag; i++)
		if (!is_let_dig(p[i]) && p[i] != '-')
			return false;
	return tag + 1 < n; /* 1*dcontent */
}

/* address-literal = "[" ( IPv4 / IPv6 / General ) "]" (RFC 5321 4.1.3).
 * The cursor is on "["; on success it is past "]". */
static enum address_error parse_literal(struct cursor *c, bool utf8)
{
	size_t start = c->pos, body, n;
	const unsigned char *b;
	int ch;

	c->pos++;
	body = c->pos;
	while (c->pos < c->len && is_dcontent(c->p[c->pos]))
		c->pos++;
	ch = cur_peek(c);
	if (ch < 0)
		return ADDRESS_ERR_SYNTAX;
	if (ch != ']')
		return (ch >= 0x80 && !utf8) ? ADDRESS_ERR_UTF8 : ADDRESS_ERR_DOMAIN;
	n = c->pos - body;
	c->pos++;
	if (c->pos - start > ADDRESS_DOMAIN_MAX)
		return ADDRESS_ERR_TOO_LONG;

	b = c->p + body;
	/* ABNF strings are case-insensitive (RFC 5234 2.3): "ipv6:" too. A
	 * bad IPv6 literal never falls back to being a general literal. */
	if (n >= 5 && ascii_caseeq(b, "IPv6:", 5))
		return literal_ipv6_ok(b + 5, n - 5) ? ADDRESS_OK : ADDRESS_ERR_DOMAIN;
	if (memchr(b, ':', n) != NULL)
		return literal_general_ok(b, n) ? ADDRESS_OK : ADDRESS_ERR_DOMAIN;
	return literal_ipv4_ok(b, n) ? ADDRESS_OK : ADDRESS_ERR_DOMAIN;
}

/* A-d-l = At-domain *( "," At-domain ) ":"; At-domain = "@" Domain.
 * RFC 5321 4.1.2 and appendix C: accepted for compatibility, then ignored
 * (we never route through the listed hosts), but still validated so that
 * nothing unparsed hides in front of the mailbox. */
static enum address_error parse_route(struct cursor *c, bool utf8)
{
	enum address_error e;

	for (;;) {
		c->pos++; /* "@" */
		if ((e = parse_domain(c, utf8)) != ADDRESS_OK)
			return e;
		if (cur_peek(c) == ':') {
			c->pos++;
			return ADDRESS_OK;
		}
		if (cur_peek(c) != ',')
			return ADDRESS_ERR_SYNTAX;
		c->pos++;
		if (cur_peek(c) != '@')
			return ADDRESS_ERR_SYNTAX;
	}
}

static bool has_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

enum address_error address_parse_path(const char *text, size_t len, bool utf8, bool allow_null,
				      bool allow_postmaster, struct address *out, size_t *consumed)
{
	static const char postmaster[] = "<Postmaster>";
	const size_t postmaster_len = sizeof(postmaster) - 1;
	struct cursor c = { (const unsigned char *)text, len, 0 };
	size_t local, local_len, domain, domain_len;
	bool literal = false;
	enum address_error e;

	memset(out, 0, sizeof(*out));
	*consumed = 0;

	/* The brackets are required (RFC 5321 4.1.2 Path); the caller has
	 * removed "FROM:" / "TO:" and nothing else. */
	if (cur_peek(&c) != '<')
		return ADDRESS_ERR_SYNTAX;
	c.pos++;

	/* Null reverse-path "<>" (RFC 5321 4.5.5): bounces only. */
	if (cur_peek(&c) == '>') {
		if (!allow_null)
			return ADDRESS_ERR_SYNTAX;
		out->kind = ADDRESS_NULL;
		*consumed = 2;
		return ADDRESS_OK;
	}

	/* "<Postmaster>" without a domain, any case (RFC 5321 4.1.1.3, 4.5.1).
	 * Refused, it is a mailbox without "@": a syntax error below. */
	if (allow_postmaster && len >= postmaster_len &&
	    ascii_caseeq(c.p, postmaster, postmaster_len)) {
		out->kind = ADDRESS_POSTMASTER;
		memcpy(out->local, text + 1, postmaster_len - 2);
		out->local[postmaster_len - 2] = '\0';
		*consumed = postmaster_len;
		return ADDRESS_OK;
	}

	if (cur_peek(&c) == '@' && (e = parse_route(&c, utf8)) != ADDRESS_OK)
		return e;

	local = c.pos;
	if ((e = parse_local(&c, utf8)) != ADDRESS_OK)
		return e;
	local_len = c.pos - local;
	if (local_len > ADDRESS_LOCAL_MAX) /* RFC 5321 4.5.3.1.1, quotes included */
		return ADDRESS_ERR_TOO_LONG;
	switch (cur_peek(&c)) {
	case '@':
		break;
	case '>': /* no domain */
	case -1:
		return ADDRESS_ERR_SYNTAX;
	default: /* e.g. a space, NUL or CR after an atom */
		return ADDRESS_ERR_LOCAL;
	}
	c.pos++;

	domain = c.pos;
	if (cur_peek(&c) == '[') {
		literal = true;
		e = parse_literal(&c, utf8);
	} else {
		e = parse_domain(&c, utf8);
	}
	if (e != ADDRESS_OK)
		return e;
	domain_len = c.pos - domain;
	if (cur_peek(&c) != '>')
		return err_here(&c, ADDRESS_ERR_DOMAIN);
	c.pos++;

	/* Both fit their fields (checked above); the stored mailbox must also
	 * fit ADDRESS_PATH_MAX. */
	if (local_len + 1 + domain_len > ADDRESS_PATH_MAX)
		return ADDRESS_ERR_TOO_LONG;

	out->kind = ADDRESS_MAILBOX;
	memcpy(out->local, text + local, local_len);
	out->local[local_len] = '\0';
	memcpy(out->domain, text + domain, domain_len);
	out->domain[domain_len] = '\0';
	out->domain_is_literal = literal;
	out->has_utf8 = has_8bit(out->local) || has_8bit(out->domain);
	*consumed = c.pos;
	return ADDRESS_OK;
}

size_t address_format(const struct address *a, char *buf, size_t cap)
{
	size_t ll, dl;

	switch (a->kind) {
	case ADDRESS_NULL:
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	case ADDRESS_POSTMASTER:
		if (cap < sizeof("Postmaster"))
			return 0;
		memcpy(buf, "Postmaster", sizeof("Postmaster"));
		return sizeof("Postmaster") - 1;
	case ADDRESS_MAILBOX:
		ll = strnlen(a->local, sizeof(a->local));
		dl = strnlen(a->domain, sizeof(a->domain));
		if (ll == sizeof(a->local) || dl == sizeof(a->domain))
			return 0; /* not a struct address_parse_path() filled */
		if (ll + 1 + dl + 1 > cap)
			return 0;
		memcpy(buf, a->local, ll);
		buf[ll] = '@';
		memcpy(buf + ll + 1, a->domain, dl);
		buf[ll + 1 + dl] = '\0';
		return ll + 1 + dl;
	}
	return 0;
}

const char *address_strerror(enum address_error e)
{
	switch (e) {
	case ADDRESS_OK:
		return "OK";
	case ADDRESS_ERR_SYNTAX:
		return "Syntax error in path";
	case ADDRESS_ERR_LOCAL:
		return "Bad local part";
	case ADDRESS_ERR_DOMAIN:
		return "Bad domain or address literal";
	case ADDRESS_ERR_TOO_LONG:
		return "Address too long";
	case ADDRESS_ERR_UTF8:
		return "8-bit address without SMTPUTF8, or malformed UTF-8";
	}
	return "Bad address";
}

const char *address_domain(const char *mailbox)
{
	const char *at = strrchr(mailbox, '@');
	return at ? at + 1 : "";
}
