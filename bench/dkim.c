/*
 * Benchmark (not a test): what DKIM costs the scanner per message. Signs
 * a message of the given body size with a fresh RSA key (our outbound
 * signature) and verifies the signed message against the key's record
 * (the inbound check, keys answered from prefetched records as in the
 * scanner), each n times on one thread; prints microseconds per call.
 *
 *   build/bench_dkim [body_bytes] [n] [bits]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "content/dkimlib.h"
#include "ctl/dkimkeygen.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A message with a body of about size bytes in 76-byte lines. */
static char *make_message(size_t size)
{
	static const char head[] = "From: Boss <boss@example.org>\r\nTo: user@example.test\r\nSubject: figures\r\n"
				   "Date: Mon, 07 Dec 2026 02:00:00 +0000\r\nMessage-ID: <b@example.org>\r\n\r\n";
	char *msg = malloc(sizeof(head) + size + 80);
	strcpy(msg, head);
	size_t at = sizeof(head) - 1;
	for (size_t done = 0; done < size; done += 76) {
		memset(msg + at, 'a' + (char)(done / 76 % 26), 74);
		memcpy(msg + at + 74, "\r\n", 2);
		at += 76;
	}
	msg[at] = '\0';
	return msg;
}

int main(int argc, char **argv)
{
	size_t body = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	int n = argc > 2 ? atoi(argv[2]) : 500;
	unsigned bits = argc > 3 ? (unsigned)atoi(argv[3]) : 2048;
	EVP_PKEY *key = EVP_RSA_gen(bits);
	BIO *bio = BIO_new(BIO_s_mem());
	static char pem[8192];
	if (!key || !bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
		return 1;
	pem[BIO_read(bio, pem, sizeof(pem) - 1)] = '\0';
	static struct authdns dns = { .n = 1 };
	snprintf(dns.rec[0].name, sizeof(dns.rec[0].name), "mw1._domainkey.example.org");
	dns.rec[0].status = DNS_OK;
	dkimkeygen_record(key, dns.rec[0].text, sizeof(dns.rec[0].text));
	char *msg = make_message(body), field[2048], err[256];
	double t0 = now();
	for (int i = 0; i < n; i++)
		if (!dkimlib_sign(msg, strlen(msg), "example.org", "mw1", pem, field, sizeof(field), err, sizeof(err)))
			return fprintf(stderr, "sign: %s\n", err), 1;
	double t1 = now();
	char *signed_msg = malloc(strlen(field) + strlen(msg) + 1);
	strcpy(signed_msg, field);
	strcat(signed_msg, msg);
	struct dkimlib_verdict v;
	for (int i = 0; i < n; i++) {
		dkimlib_verify(signed_msg, strlen(signed_msg), &dns, &v);
		if (v.n != 1 || v.sig[0].result != DKIMLIB_PASS)
			return fprintf(stderr, "verify failed\n"), 1;
	}
	double t2 = now();
	printf("rsa-%u, body %zu bytes, %d runs: sign %.0f us, verify %.0f us per message\n", bits, body, n,
	       (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6);
	free(signed_msg);
	free(msg);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return 0;
}
