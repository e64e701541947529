/*
 * SMTP AUTH (RFC 4954) in the server session: the AUTH verb, the SASL
 * responses that follow it, and the checks that depend on the login
 * (the brute-force brake per client). Runs in smtpd. The mechanisms'
 * decoding is auth/sasl.c; the credentials auth/authdb.c.
 */
#ifndef MW_SMTP_AUTH_H
#define MW_SMTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_session;

/* May this session offer AUTH in its EHLO reply? (TLS-3: only under TLS.) */
bool smtp_auth_offered(const struct smtp_session *s);

/* The AUTH command (the dispatcher has checked state, arguments and TLS). */
void smtp_auth_command(struct smtp_session *s, const char *args, size_t len);

/* One line of the client in SMTP_STATE_AUTH. */
void smtp_auth_response(struct smtp_session *s, const char *line, size_t len);

/* Is the session's client cut off after too many failures? Only on
 * listeners that take AUTH. */
bool smtp_auth_client_cut_off(const struct smtp_session *s);

#endif
