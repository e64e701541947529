/*
 * TLS contexts: see tls.h. Server contexts run in the master (loading)
 * and in smtpd (handshakes); the client context in the queue process.
 */
#include "tls/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config/config.h"
#include "util/alloc.h"

struct tls_server {
	SSL_CTX **ctx;      /* one per certificate; [0] is the default */
	X509 **leaf;        /* their certificates, for SNI matching (borrowed from ctx) */
	size_t n;
};

void tls_error_text(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	if (e == 0)
		snprintf(buf, len, "unknown TLS error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

/* RFC 6066 3 server_name: pick the context whose certificate names the
 * host; unknown names keep the default certificate. */
static int sni_callback(SSL *ssl, int *alert, void *arg)
{
	const struct tls_server *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (!name)
		return SSL_TLSEXT_ERR_NOACK;
	for (size_t i = 0; i < t->n; i++)
		if (t->leaf[i] && X509_check_host(t->leaf[i], name, strlen(name), 0, NULL) == 1) {
			if (i > 0)
				SSL_set_SSL_CTX(ssl, t->ctx[i]);
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_NOACK;
}

/*
 * ALPACA (cross-protocol attacks, issue 18 item 3): a client that names
 * application protocols in ALPN (RFC 7301) must name "smtp"; a handshake
 * that offers only others (http/1.1, h2, ...) fails with the
 * no_application_protocol alert (RFC 7301 3.2), so a browser that was
 * sent to our port never gets a TLS session to talk HTTP over. A client
 * that sends no ALPN at all (every MTA today) is not asked.
 */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		       unsigned inlen, void *arg)
{
	for (unsigned i = 0; i < inlen;) {
		unsigned n = in[i];
		if (n == 0 || n > inlen - i - 1)
			break;  /* malformed: OpenSSL has checked it, but we read it again */
		if (n == 4 && memcmp(in + i + 1, "smtp", 4) == 0) {
			*out = in + i + 1;
			*outlen = 4;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* TLS-4: no SSLv2/SSLv3/TLS 1.0/1.1 (min version), forward-secret ciphers
 * only (the configured list, ECDHE by default; TLS 1.3 suites all are),
 * no compression (CRIME), no renegotiation (client-initiated renegotiation
 * is a denial-of-service lever). */
static SSL_CTX *server_ctx_new(const struct config *c, const char *cert, const char *key,
			       char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "cannot make a TLS context: %s", why);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, c->tls.min_version ? c->tls.min_version : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
				 SSL_OP_NO_TLSv1_1);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"mailwarden", 10);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	if (SSL_CTX_set_cipher_list(ctx, c->tls.ciphers ? c->tls.ciphers : "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
		tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "tls.ciphers: no usable cipher: %s", why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load certificate: %s", cert, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load the key (or it does not match %s): %s", key, cert, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct tls_server *tls_server_load(const struct config *c, char *err, size_t errlen)
{
	char cert[4200], key[4200];
	struct tls_server *t = xcalloc(1, sizeof(*t));
	size_t n = c->n_certificates ? c->n_certificates : 1;
	t->ctx = xcalloc(n, sizeof(*t->ctx));
	t->leaf = xcalloc(n, sizeof(*t->leaf));
	for (size_t i = 0; i < n; i++) {
		if (c->n_certificates) {
			snprintf(cert, sizeof(cert), "%s", c->certificates[i].cert);
			snprintf(key, sizeof(key), "%s", c->certificates[i].key);
		} else {
			/* The demo: a self-signed certificate made on first start. */
			snprintf(cert, sizeof(cert), "%s/tls", c->state_dir);
			if (mkdir(cert, 0700) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "%s: cannot create: %s", cert, strerror(errno));
				tls_server_free(t);
				return NULL;
			}
			snprintf(cert, sizeof(cert), "%s/tls/selfsigned.crt", c->state_dir);
			snprintf(key, sizeof(key), "%s/tls/selfsigned.key", c->state_dir);
			if (!tls_selfsigned_ensure(c->hostname, cert, key, err, errlen)) {
				tls_server_free(t);
				return NULL;
			}
		}
		t->ctx[i] = server_ctx_new(c, cert, key, err, errlen);
		if (!t->ctx[i]) {
			tls_server_free(t);
			return NULL;
		}
		t->n = i + 1;
		t->leaf[i] = SSL_CTX_get0_certificate(t->ctx[i]);
	}
	SSL_CTX_set_tlsext_servername_callback(t->ctx[0], sni_callback);
	SSL_CTX_set_tlsext_servername_arg(t->ctx[0], t);
	return t;
}

bool tls_server_check(const struct config *c, size_t i, char *err, size_t errlen)
{
	SSL_CTX *ctx = server_ctx_new(c, c->certificates[i].cert, c->certificates[i].key, err, errlen);
	SSL_CTX_free(ctx);
	return ctx != NULL;
}

void tls_server_free(struct tls_server *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		SSL_CTX_free(t->ctx[i]);
	free(t->ctx);
	free(t->leaf);
	free(t);
}

struct ssl_ctx_st *tls_server_ctx(const struct tls_server *t)
{
	return t ? t->ctx[0] : NULL;
}

static bool write_pem(const char *path, mode_t mode, EVP_PKEY *pkey, X509 *x509, char *err, size_t errlen)
{
	char tmp[4300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	bool ok = pkey ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1
		       : PEM_write_X509(f, x509) == 1;
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	fclose(f);
	if (!ok || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

bool tls_selfsigned_ensure(const char *hostname, const char *cert_path, const char *key_path,
			   char *err, size_t errlen)
{
	if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
		return true;
	bool ok = false;
	char why[256];
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	GENERAL_NAMES *sans = GENERAL_NAMES_new();
	GENERAL_NAME *dns = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	if (!pkey || !x || !name || !sans || !dns || !ia5 || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, pkey) ||
	    !ASN1_STRING_set(ia5, hostname, -1))
		goto out;
	GENERAL_NAME_set0_value(dns, GEN_DNS, ia5);
	ia5 = NULL;
	if (!sk_GENERAL_NAME_push(sans, dns))
		goto out;
	dns = NULL;
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, 0) || !X509_sign(x, pkey, EVP_sha256()))
		goto out;
	ok = write_pem(key_path, 0600, pkey, NULL, err, errlen) && write_pem(cert_path, 0644, NULL, x, err, errlen);
	if (!ok)
		goto done;
out:
	if (!ok) {
		tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "cannot make a self-signed certificate: %s", why);
	}
done:
	BN_free(bn);
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(dns);
	GENERAL_NAMES_free(sans);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ok;
}

struct ssl_ctx_st *tls_client_ctx(const struct config *c)
{
	static SSL_CTX *ctx;
	if (ctx)
		return ctx;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	/* Opportunistic TLS still refuses the broken versions; encrypt and
	 * verify raise the floor per job (SSL_set_min_proto_version). */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_dane_enable(ctx);  /* TLS-8: used per connection only for hosts with TLSA records */
	if (c->outbound_tls.ca_file)
		SSL_CTX_load_verify_locations(ctx, c->outbound_tls.ca_file, NULL);
	else
		SSL_CTX_set_default_verify_paths(ctx);
	ERR_clear_error();
	return ctx;
}

bool tls_client_check_ca(const char *path, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	bool ok = ctx && SSL_CTX_load_verify_locations(ctx, path, NULL) == 1;
	if (!ok) {
		tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load CA certificates: %s", path, why);
	}
	SSL_CTX_free(ctx);
	return ok;
}
