/*
 * The keys outbound mail is signed with (scan.dkim_sign: domain,
 * selector, private key file), read whole before the scanner's chroot;
 * the master's preflight loads them the same way, so a key that is
 * missing, unreadable or not an RSA private key stops the start with the
 * file, line and key of the entry.
 */
#ifndef MW_CONTENT_SIGNKEYS_H
#define MW_CONTENT_SIGNKEYS_H

#include <stddef.h>

struct scan_config;

struct signkey {
	char *domain, *selector;
	char *pem;               /* the private key file's text */
};

struct signkeys {
	size_t n;
	struct signkey *keys;
};

/* The private key file at path as text, if it holds an RSA key of at
 * least 1024 bits (RFC 8301 3.2); NULL with the reason in err. Caller frees. */
char *signkeys_read(const char *path, char *err, size_t errcap);
/* Wipe and free what signkeys_read returned: the master forks the
 * internet-facing processes after its checks, and they must not inherit
 * a private key in freed memory. */
void signkeys_discard(char *pem);
/* Every key of sc->dkim_sign; NULL, with the reason in err, if one
 * cannot be used. An empty set when there are none. */
struct signkeys *signkeys_load(const struct scan_config *sc, char *err, size_t errcap);
/* The key for mail from domain (any case), or NULL. */
const struct signkey *signkeys_find(const struct signkeys *ks, const char *domain);
void signkeys_free(struct signkeys *ks);

#endif
