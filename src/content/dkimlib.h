/*
 * DKIM (RFC 6376) with libopendkim, for the scanner's checks: verify a
 * message's signatures with keys from the records fetched beforehand
 * (content/authdns.h; the library's own DNS lookups are never used), and
 * make our signature for outbound mail. One library handle per process,
 * made on first use; the calls are safe from several worker threads (each
 * uses its own DKIM handle). Messages are as the scanner gets them: header
 * section and body with CRLF line ends.
 */
#ifndef MW_CONTENT_DKIMLIB_H
#define MW_CONTENT_DKIMLIB_H

#include <stdbool.h>
#include <stddef.h>

#include "content/authdns.h"

/* RFC 8601 2.7.1 results of one signature. */
enum dkimlib_result {
	DKIMLIB_PASS,
	DKIMLIB_FAIL,        /* the signature or body hash does not match */
	DKIMLIB_NEUTRAL,     /* a signature we cannot evaluate (syntax, expired, ...) */
	DKIMLIB_TEMPERROR,   /* the key lookup failed or timed out */
	DKIMLIB_PERMERROR,   /* no key, or a key that cannot be used */
};

const char *dkimlib_result_name(enum dkimlib_result r);

struct dkimlib_signature {
	char domain[254], selector[254];  /* d= and s=, checked by authdns_name_ok ("" if not) */
	enum dkimlib_result result;
	char why[96];                     /* the library's reason when not pass */
};

struct dkimlib_verdict {
	size_t n;                         /* 0: the message has no signature */
	struct dkimlib_signature sig[AUTHDNS_SIGNATURES_MAX];
};

/* Verify msg[0..len) with keys answered from dns only. */
void dkimlib_verify(const char *msg, size_t len, const struct authdns *dns, struct dkimlib_verdict *out);

/* The fields our signature covers (RFC 6376 5.4.1), when present; the
 * queue's own trace and verdict fields (Received, Authentication-Results,
 * X-Spam-*) are never among them, so what it adds at delivery leaves the
 * signature valid. */
extern const char *const dkimlib_signed_fields[];

/* Sign msg[0..len) for domain with selector and the PEM RSA private key
 * (rsa-sha256, relaxed/relaxed): the whole "DKIM-Signature: ...\r\n" field, folded with
 * CRLF TAB, into out. False, with the reason in err, if it fails or does
 * not fit. */
bool dkimlib_sign(const char *msg, size_t len, const char *domain, const char *selector, const char *key_pem,
		  char *out, size_t cap, char *err, size_t errcap);

#endif
