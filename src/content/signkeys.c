/*
 * See signkeys.h.
 */
#include "content/signkeys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "scan/policy.h"
#include "util/alloc.h"

/* A PEM private key file is a few kilobytes; anything larger is not one. */
#define SIGNKEY_FILE_MAX (64 * 1024)
/* RFC 8301 3.2: signers use keys of at least 1024 bits (2048 advised). */
#define SIGNKEY_MIN_BITS 1024

/* The whole file, NUL-terminated; NULL with the reason in err. */
static char *read_key_file(const char *path, char *err, size_t errcap)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = xmalloc(SIGNKEY_FILE_MAX + 1);
	size_t n = fread(text, 1, SIGNKEY_FILE_MAX + 1, f);
	bool failed = ferror(f);
	fclose(f);
	if (failed || n > SIGNKEY_FILE_MAX) {
		snprintf(err, errcap, "cannot read %s: %s", path, failed ? "read error" : "larger than a key file");
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

/* An RSA private key of at least SIGNKEY_MIN_BITS? */
static bool key_usable(const char *pem, const char *path, char *err, size_t errcap)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	bool ok = key && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) >= SIGNKEY_MIN_BITS;
	if (!key)
		snprintf(err, errcap, "%s is not a PEM private key", path);
	else if (!ok)
		snprintf(err, errcap, "%s is not an RSA key of at least %d bits", path, SIGNKEY_MIN_BITS);
	EVP_PKEY_free(key);
	return ok;
}

void signkeys_discard(char *pem)
{
	if (pem)
		OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
}

char *signkeys_read(const char *path, char *err, size_t errcap)
{
	char *pem = read_key_file(path, err, errcap);
	if (pem && !key_usable(pem, path, err, errcap)) {
		signkeys_discard(pem);
		return NULL;
	}
	return pem;
}

struct signkeys *signkeys_load(const struct scan_config *sc, char *err, size_t errcap)
{
	struct signkeys *ks = xcalloc(1, sizeof(*ks));
	size_t n = sc ? sc->n_dkim_sign : 0;
	if (n)
		ks->keys = xcalloc(n, sizeof(*ks->keys));
	for (size_t i = 0; i < n; i++) {
		const struct scan_dkim_key *k = &sc->dkim_sign[i];
		char *pem = signkeys_read(k->key, err, errcap);
		if (!pem) {
			signkeys_free(ks);
			return NULL;
		}
		ks->keys[ks->n++] = (struct signkey){ xstrdup(k->domain), xstrdup(k->selector), pem };
	}
	return ks;
}

const struct signkey *signkeys_find(const struct signkeys *ks, const char *domain)
{
	for (size_t i = 0; ks && i < ks->n; i++)
		if (strcasecmp(ks->keys[i].domain, domain) == 0)
			return &ks->keys[i];
	return NULL;
}

void signkeys_free(struct signkeys *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->keys[i].domain);
		free(ks->keys[i].selector);
		signkeys_discard(ks->keys[i].pem);
	}
	free(ks->keys);
	free(ks);
}
