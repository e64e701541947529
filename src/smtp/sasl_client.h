/*
 * SMTP AUTH as a client (RFC 4954) to a smart host: which mechanism to
 * use, and the lines to send for it. PLAIN (RFC 4616) when the server
 * offers it, LOGIN (draft-murchison-sasl-login) when that is all it
 * offers; nothing else (no CRAM-MD5: it needs the password in clear on
 * the server, and TLS protects PLAIN as well). Pure functions, no I/O,
 * unit-tested; smtp/client.c sends what they build, and only over TLS.
 * Runs in the queue process.
 */
#ifndef MW_SMTP_SASL_CLIENT_H
#define MW_SMTP_SASL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/sasl.h"

enum sasl_client_mech {
	SASL_CLIENT_NONE,    /* the server offers neither PLAIN nor LOGIN */
	SASL_CLIENT_PLAIN,
	SASL_CLIENT_LOGIN,
};

/* The mechanism for the EHLO reply's AUTH parameters (mechs, the text
 * after "AUTH ", space-separated, any case): PLAIN if listed, else LOGIN
 * if listed, else NONE. */
enum sasl_client_mech sasl_client_choose(const char *mechs);

/* "PLAIN", "LOGIN" or "none", for logs. */
const char *sasl_client_mech_name(enum sasl_client_mech m);

/*
 * The line (without CRLF) to send at step of the exchange, into out (cap
 * bytes, NUL-terminated). Step 0 is the AUTH command; each 334 from the
 * server asks for the next step. PLAIN: "AUTH PLAIN <initial response>"
 * (RFC 4954 4: the initial response saves a round trip), no step 1.
 * LOGIN: "AUTH LOGIN", then the user name, then the password, each in
 * base64. Returns false when the mechanism has no such step (a 334 the
 * exchange does not expect) or out is too small. out holds the password
 * afterwards: the caller wipes it.
 */
bool sasl_client_step(enum sasl_client_mech m, unsigned step, const struct sasl_creds *creds, char *out,
		      size_t cap);

#endif
