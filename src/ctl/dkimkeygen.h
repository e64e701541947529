/*
 * "mailwarden dkim-keygen DOMAIN SELECTOR [--bits N] [--out FILE]": make
 * an RSA key pair for DKIM signing (scan.dkim_sign). The private key goes
 * into FILE (default SELECTOR.DOMAIN.pem in the current directory; PEM,
 * mode 0600, never over an existing file); the TXT record to publish at
 * SELECTOR._domainkey.DOMAIN is printed on stdout, in zone file syntax
 * with the key split into strings of at most 255 bytes (RFC 6376 3.6.2.2).
 */
#ifndef MW_CTL_DKIMKEYGEN_H
#define MW_CTL_DKIMKEYGEN_H

#include <stdio.h>

#include <stddef.h>

#include <stdbool.h>
#include <openssl/types.h>

/* The record's text, "v=DKIM1; k=rsa; p=BASE64", for key's public half
 * into out; false if it does not fit. */
bool dkimkeygen_record(EVP_PKEY *key, char *out, size_t cap);

/* argv[0] is "dkim-keygen". Exit status: 0 done, 1 the key could not be
 * made or written, 2 usage. */
int dkimkeygen_main(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void dkimkeygen_usage(FILE *out);

#endif
