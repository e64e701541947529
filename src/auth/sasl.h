/*
 * SASL for SMTP AUTH (RFC 4954): strict base64 and the PLAIN (RFC 4616)
 * and LOGIN mechanisms' messages. Pure functions over client bytes, with
 * no allocation: unit-tested with hostile inputs. Runs in smtpd.
 */
#ifndef MW_AUTH_SASL_H
#define MW_AUTH_SASL_H

#include <stdbool.h>
#include <stddef.h>

#define SASL_FIELD_MAX 255          /* bytes of a user name or password */
#define SASL_LINE_MAX 1024          /* base64 text of one response */

enum sasl_result {
	SASL_OK,
	SASL_CANCELLED,      /* the client sent "*" (RFC 4954 4) */
	SASL_ERR_BASE64,     /* not strict base64 */
	SASL_ERR_FORMAT,     /* decoded, but not a valid message of the mechanism */
	SASL_ERR_TOO_LONG,
};

struct sasl_creds {
	char user[SASL_FIELD_MAX + 1];      /* NUL-terminated; no NUL or control byte inside */
	char password[SASL_FIELD_MAX + 1];  /* NUL-terminated; no NUL inside */
};

/* Strict RFC 4648 base64: length a multiple of 4, '=' only as the last one
 * or two characters, no whitespace. "=" alone is the empty string (RFC 4954 4).
 * Returns the decoded length, or -1 if invalid or longer than cap. */
long sasl_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);
/* Encode len bytes into out (NUL-terminated). Returns the text length, 0 if cap is too small. */
size_t sasl_base64_encode(const void *in, size_t len, char *out, size_t cap);

/* PLAIN: base64 of [authzid] NUL authcid NUL passwd. An authorization
 * identity other than the user itself is refused (no proxy logins). */
enum sasl_result sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out);

/* LOGIN: one base64 field (the user name, then the password). user says
 * which: a user name must not hold control bytes. out gets SASL_FIELD_MAX + 1. */
enum sasl_result sasl_login_decode(const char *b64, size_t len, bool user, char *out);

const char *sasl_strerror(enum sasl_result r);

#endif
