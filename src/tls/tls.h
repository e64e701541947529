/*
 * TLS contexts (OpenSSL 3): the server side with SNI and the policy of
 * TLS-4, the client side for outbound STARTTLS (TLS-5, TLS-7), and the
 * self-signed certificate of the demo configuration.
 *
 * Server contexts are built by the master, before any child is forked and
 * before any privilege drop: it can read the key files, and smtpd inherits
 * the loaded contexts (it is chrooted and could not open them). A reload
 * builds new contexts; the new generation of smtpd gets them.
 */
#ifndef MW_TLS_TLS_H
#define MW_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct ssl_ctx_st;
struct ssl_st;

struct tls_server;

/* Load every configured certificate (or, without any, make and load the
 * self-signed one in state_dir/tls/). NULL with the reason in err. */
struct tls_server *tls_server_load(const struct config *c, char *err, size_t errlen);
void tls_server_free(struct tls_server *t);
/* Can configured certificate i (with its key, the ciphers and versions)
 * make a server context? false with the reason in err. Loads and
 * forgets; makes no self-signed certificate. */
bool tls_server_check(const struct config *c, size_t i, char *err, size_t errlen);
/* The context new server connections start with (SNI may switch it). */
struct ssl_ctx_st *tls_server_ctx(const struct tls_server *t);

/* Make a self-signed certificate for hostname (EC P-256, 10 years) unless
 * cert_path and key_path both exist. The key file is created 0600. */
bool tls_selfsigned_ensure(const char *hostname, const char *cert_path, const char *key_path,
			   char *err, size_t errlen);

/* The client context of this process (made on first use, kept): peer
 * verification data from outbound_tls.ca_file or the system store. */
struct ssl_ctx_st *tls_client_ctx(const struct config *c);

/* Can outbound_tls.ca_file (path) be loaded as trust anchors (PEM, at
 * least one certificate)? false with the reason in err. */
bool tls_client_check_ca(const char *path, char *err, size_t errlen);

/* The last OpenSSL error as text (the error queue is cleared). */
void tls_error_text(char *buf, size_t len);

#endif
