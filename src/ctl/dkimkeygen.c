/*
 * See dkimkeygen.h.
 */
#include "ctl/dkimkeygen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "config/schema.h"

#define KEYGEN_BITS_DEFAULT 2048
/* A zone file's character-string holds at most 255 bytes. */
#define TXT_STRING_MAX 250

bool dkimkeygen_record(EVP_PKEY *key, char *out, size_t cap)
{
	unsigned char *der = NULL;
	int dlen = i2d_PUBKEY(key, &der);
	if (dlen <= 0)
		return false;
	static const char head[] = "v=DKIM1; k=rsa; p=";
	size_t need = sizeof(head) - 1 + 4 * (((size_t)dlen + 2) / 3) + 1;
	bool ok = need <= cap;
	if (ok) {
		memcpy(out, head, sizeof(head) - 1);
		EVP_EncodeBlock((unsigned char *)out + sizeof(head) - 1, der, dlen);
	}
	OPENSSL_free(der);
	return ok;
}

/* The synopsis: on stdout for --help, on stderr for a usage error. */
void dkimkeygen_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden dkim-keygen DOMAIN SELECTOR [--bits 1024..4096] [--out FILE]\n");
}

static int usage(void)
{
	dkimkeygen_usage(stderr);
	return 2;
}

/* The private key into a new file of mode 0600. */
static bool write_key(EVP_PKEY *key, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, "mailwarden dkim-keygen: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	bool ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		fprintf(stderr, "mailwarden dkim-keygen: %s: cannot write the key\n", path);
		unlink(path);
	}
	return ok;
}

/* The record in zone file syntax, split into strings. */
static void print_record(const char *domain, const char *selector, const char *text)
{
	printf("%s._domainkey.%s. IN TXT (", selector, domain);
	for (size_t at = 0, len = strlen(text); at < len; at += TXT_STRING_MAX)
		printf(" \"%.*s\"", TXT_STRING_MAX, text + at);
	printf(" )\n");
}

/* Options after DOMAIN SELECTOR; false on a usage error. */
static bool parse_options(int argc, char **argv, unsigned long *bits, const char **out)
{
	for (int i = 3; i < argc; i += 2) {
		if (i + 1 >= argc)
			return false;
		if (strcmp(argv[i], "--bits") == 0) {
			char *end;
			*bits = strtoul(argv[i + 1], &end, 10);
			if (*end || *bits < 1024 || *bits > 4096)
				return false;
		} else if (strcmp(argv[i], "--out") == 0) {
			*out = argv[i + 1];
		} else {
			return false;
		}
	}
	return true;
}

int dkimkeygen_main(int argc, char **argv)
{
	unsigned long bits = KEYGEN_BITS_DEFAULT;
	const char *out = NULL;
	if (argc < 3 || !parse_options(argc, argv, &bits, &out))
		return usage();
	const char *domain = argv[1], *selector = argv[2];
	if (schema_check_domain(domain, strlen(domain)) || schema_check_domain(selector, strlen(selector))) {
		fprintf(stderr, "mailwarden dkim-keygen: DOMAIN and SELECTOR must be domain names\n");
		return 2;
	}
	char path[600];
	if (!out) {
		snprintf(path, sizeof(path), "%s.%s.pem", selector, domain);
		out = path;
	}
	EVP_PKEY *key = EVP_RSA_gen((unsigned int)bits);
	char record[2048];
	bool ok = key && dkimkeygen_record(key, record, sizeof(record)) && write_key(key, out);
	if (ok) {
		print_record(domain, selector, record);
		fprintf(stderr, "mailwarden dkim-keygen: private key in %s (mode 0600); publish the record above, then "
			"add {domain: %s, selector: %s, key: %s} to scan.dkim_sign\n", out, domain, selector, out);
	} else if (!key) {
		fprintf(stderr, "mailwarden dkim-keygen: cannot make an RSA key\n");
	}
	EVP_PKEY_free(key);
	return ok ? 0 : 1;
}
