/*
 * Parsing of MAIL FROM / RCPT TO arguments after the path: ESMTP
 * parameters "KEY[=VALUE]" separated by single spaces (RFC 5321 4.1.2,
 * esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), esmtp-value =
 * 1*(%d33-60 / %d62-126), RFC 6531 also allows UTF-8 in values).
 * Keywords compare case-insensitively.
 */
#ifndef MW_SMTP_PARAMS_H
#define MW_SMTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mail_body { MAIL_BODY_7BIT, MAIL_BODY_8BITMIME };

#define PARAMS_ENVID_MAX 100   /* RFC 3461 4.4 */
#define PARAMS_ORCPT_MAX 500   /* RFC 3461 4.2 */

struct mail_params {
	bool has_size;
	uint64_t size;        /* SIZE=n (RFC 1870), n <= 2^63 */
	enum mail_body body;  /* BODY=7BIT|8BITMIME (RFC 6152) */
	bool smtputf8;        /* SMTPUTF8 (RFC 6531), no value */
	char ret[5];          /* RET=FULL|HDRS (RFC 3461 4.3), upper case, or "" */
	char envid[PARAMS_ENVID_MAX + 1]; /* ENVID=xtext (RFC 3461 4.4) as given, or "" */
	bool requiretls;      /* REQUIRETLS (RFC 8689 3), no value; only valid over TLS,
			       * which the caller checks (the parser knows no session) */
};

/* RCPT TO parameters: DSN (RFC 3461 4.1, 4.2). */
struct rcpt_params {
	char notify[32];      /* "NEVER" or e.g. "SUCCESS,FAILURE", upper case, or "" */
	char orcpt[PARAMS_ORCPT_MAX + 1]; /* "rfc822;user@example.org" (xtext) as given, or "" */
};

enum params_error {
	PARAMS_OK = 0,
	PARAMS_ERR_SYNTAX,    /* malformed keyword/value, double spaces, trailing space */
	PARAMS_ERR_UNKNOWN,   /* a keyword we do not implement */
	PARAMS_ERR_VALUE,     /* a known keyword with a bad value */
	PARAMS_ERR_DUPLICATE, /* the same keyword twice */
};

/* text is what follows the path ("" or " SIZE=100 BODY=8BITMIME").
 * On error *bad_keyword points into text at the offending keyword (for the reply). */
enum params_error params_parse_mail(const char *text, size_t len, struct mail_params *out,
				    const char **bad_keyword);

/* RCPT TO: NOTIFY and ORCPT (RFC 3461); anything else is
 * PARAMS_ERR_UNKNOWN. out may be NULL. */
enum params_error params_parse_rcpt(const char *text, size_t len, struct rcpt_params *out,
				    const char **bad_keyword);

/* xtext (RFC 3461 4.): chars 33..126 except '+' and '=', or "+" and two
 * upper-case hex digits that encode printable ASCII (0x20..0x7e): a
 * decoded control (CR, LF, NUL, ...) or 8-bit byte is invalid. */
bool params_xtext_valid(const char *p, size_t n);

#endif
