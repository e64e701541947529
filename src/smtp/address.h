/*
 * Envelope address parsing, RFC 5321 4.1.2 and RFC 6531 (SMTPUTF8).
 * This is a security boundary (CVE-2020-7247 in OpenSMTPD came from an
 * address special case): every address that enters the envelope passes
 * here, there is no bypass, and the module is unit-tested and fuzzed.
 *
 *   Path     = "<" [ A-d-l ":" ] Mailbox ">"     source route: accepted, ignored (RFC 5321 C)
 *   Mailbox  = Local-part "@" ( Domain / address-literal )
 *   Local-part = Dot-string / Quoted-string      at most 64 octets
 *   Domain   = sub-domain *("." sub-domain)      at most 255 octets, no trailing dot
 *   address-literal = "[" IPv4 / "IPv6:" IPv6 / tag ":" dcontent "]"
 *
 * With utf8 set (the client gave SMTPUTF8 on MAIL), UTF-8 sequences are
 * allowed in atext, qtext and sub-domain labels (RFC 6531 3.3); they must
 * be well-formed UTF-8 (no overlongs, no surrogates). Without it, any byte
 * >= 0x80 is an error. NUL and control characters are always errors.
 */
#ifndef MW_SMTP_ADDRESS_H
#define MW_SMTP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#define ADDRESS_LOCAL_MAX 64
#define ADDRESS_DOMAIN_MAX 255
#define ADDRESS_PATH_MAX 256   /* the mailbox "local@domain" as stored */

enum address_kind {
	ADDRESS_MAILBOX,     /* local@domain */
	ADDRESS_NULL,        /* <> : only valid as a sender */
	ADDRESS_POSTMASTER,  /* <Postmaster> without domain: only valid as a recipient (RFC 5321 4.5.1) */
};

struct address {
	enum address_kind kind;
	char local[ADDRESS_LOCAL_MAX + 1];    /* as written, quotes included if quoted */
	char domain[ADDRESS_DOMAIN_MAX + 1];  /* as written; address literals keep their brackets */
	bool domain_is_literal;
	bool has_utf8;                        /* some byte >= 0x80 in local or domain */
};

enum address_error {
	ADDRESS_OK = 0,
	ADDRESS_ERR_SYNTAX,      /* not a Path at all */
	ADDRESS_ERR_LOCAL,       /* bad local part */
	ADDRESS_ERR_DOMAIN,      /* bad domain or address literal */
	ADDRESS_ERR_TOO_LONG,    /* a length limit above */
	ADDRESS_ERR_UTF8,        /* 8-bit without SMTPUTF8, or malformed UTF-8 */
};

/*
 * Parse the path at the start of text[0..len): "<...>" up to and including
 * the closing ">". On success *consumed is the number of bytes used (the
 * caller parses ESMTP parameters after it). Whitespace inside is refused.
 * allow_null: "<>" is accepted (MAIL FROM). allow_postmaster: "<Postmaster>"
 * (any case) is accepted (RCPT TO).
 */
enum address_error address_parse_path(const char *text, size_t len, bool utf8, bool allow_null,
				      bool allow_postmaster, struct address *out, size_t *consumed);

/* The domain of a stored mailbox "local@domain" (after the last '@'), or
 * "" if there is none. */
const char *address_domain(const char *mailbox);

/* Write "local@domain" (or "" for the null path, "Postmaster" for the
 * special recipient) into buf. Returns the length, or 0 if it does not fit. */
size_t address_format(const struct address *a, char *buf, size_t cap);

/* A short English reason for the error, for the SMTP reply text. */
const char *address_strerror(enum address_error e);

#endif
