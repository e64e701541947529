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

struct mail_params {
	bool has_size;
	uint64_t size;        /* SIZE=n (RFC 1870), n <= 2^63 */
	enum mail_body body;  /* BODY=7BIT|8BITMIME (RFC 6152) */
	bool smtputf8;        /* SMTPUTF8 (RFC 6531), no value */
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

/* RCPT TO has no parameters yet (DSN's NOTIFY/ORCPT come with the delivery
 * engine); anything non-empty is PARAMS_ERR_UNKNOWN or a syntax error. */
enum params_error params_parse_rcpt(const char *text, size_t len, const char **bad_keyword);

#endif
