/* DKIM with libopendkim (content/dkimlib.h): our signature verifies with
 * the key the record of `mailwarden dkim-keygen` publishes, a change
 * breaks it, and key lookups are answered from the prefetched records
 * only: a lookup that timed out is a temporary error, a missing key a
 * permanent one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "content/dkimlib.h"
#include "ctl/dkimkeygen.h"

static const char message[] = "From: Boss <boss@example.org>\r\nTo: user@example.test\r\nSubject: figures\r\n"
			      "Date: Mon, 07 Dec 2026 02:00:00 +0000\r\n\r\nThe figures are fine.\r\n";

static char pem[4096];
static struct authdns dns;

static void init(void)
{
	EVP_PKEY *key = EVP_RSA_gen(1024);
	cr_assert_not_null(key);
	BIO *bio = BIO_new(BIO_s_mem());
	cr_assert(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL));
	int n = BIO_read(bio, pem, sizeof(pem) - 1);
	cr_assert_gt(n, 0);
	pem[n] = '\0';
	BIO_free(bio);
	memset(&dns, 0, sizeof(dns));
	dns.n = 1;
	snprintf(dns.rec[0].name, sizeof(dns.rec[0].name), "mw1._domainkey.example.org");
	dns.rec[0].status = DNS_OK;
	cr_assert(dkimkeygen_record(key, dns.rec[0].text, sizeof(dns.rec[0].text)));
	EVP_PKEY_free(key);
}

TestSuite(dkimlib, .init = init);

/* Our field in front of the message, as the queue delivers it. */
static char *signed_message(const char *msg)
{
	char field[2048], err[256];
	cr_assert(dkimlib_sign(msg, strlen(msg), "example.org", "mw1", pem, field, sizeof(field), err, sizeof(err)),
		  "%s", err);
	cr_assert(strncmp(field, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mw1;", 75) == 0,
		  "%s", field);
	cr_assert(strstr(field, "\r\n\t") && !strstr(field, "\n\n") && strlen(field) > 2 &&
		  strcmp(field + strlen(field) - 2, "\r\n") == 0, "folded with CRLF TAB: %s", field);
	char *out = malloc(strlen(field) + strlen(msg) + 1);
	strcpy(out, field);
	strcat(out, msg);
	return out;
}

static enum dkimlib_result verify(const char *msg, size_t *n)
{
	struct dkimlib_verdict v;
	dkimlib_verify(msg, strlen(msg), &dns, &v);
	*n = v.n;
	return v.n ? v.sig[0].result : DKIMLIB_NEUTRAL;
}

Test(dkimlib, our_signature_verifies_and_a_change_breaks_it)
{
	char *msg = signed_message(message);
	size_t n;
	cr_assert_eq(verify(msg, &n), DKIMLIB_PASS);
	cr_assert_eq(n, 1);
	char *p = strstr(msg, "fine");
	memcpy(p, "FINE", 4);
	cr_assert_eq(verify(msg, &n), DKIMLIB_FAIL, "body changed");
	memcpy(p, "fine", 4);
	p = strstr(msg, "figures\r\n");
	p[0] = 'F';
	cr_assert_eq(verify(msg, &n), DKIMLIB_FAIL, "signed Subject changed");
	free(msg);
}

Test(dkimlib, fields_added_in_front_later_leave_it_valid)
{
	char *msg = signed_message(message);
	char *more = malloc(strlen(msg) + 200);
	sprintf(more, "Received: from x by y; Mon, 7 Dec 2026 02:00:00 +0000\r\nAuthentication-Results: mx; none\r\n%s", msg);
	size_t n;
	cr_assert_eq(verify(more, &n), DKIMLIB_PASS);
	free(more);
	free(msg);
}

Test(dkimlib, a_lookup_that_timed_out_is_temperror_a_missing_key_permerror)
{
	char *msg = signed_message(message);
	size_t n;
	dns.rec[0].status = DNS_TEMPFAIL;
	cr_assert_eq(verify(msg, &n), DKIMLIB_TEMPERROR);
	dns.rec[0].status = DNS_NXDOMAIN;
	cr_assert_eq(verify(msg, &n), DKIMLIB_PERMERROR);
	dns.n = 0;
	cr_assert_eq(verify(msg, &n), DKIMLIB_TEMPERROR, "not fetched: never a lookup of the library's own");
	free(msg);
}

Test(dkimlib, a_message_without_signature_has_none)
{
	size_t n = 9;
	verify(message, &n);
	cr_assert_eq(n, 0);
}
