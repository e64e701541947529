/* TLS-RPT sessions (src/queue/tlsrpt_session.c, RFC 8460 4.3; TLS-8): the
 * result type of a failed TLS attempt, policy strings of MTA-STS and DANE. */
#include <criterion/criterion.h>

#include <openssl/x509_vfy.h>

#include "dns/tlsa.h"
#include "policy/mtasts.h"
#include "queue/tlsrpt_session.h"

Test(tlsrpt_session, result_types_from_the_tls_attempt)
{
	cr_assert_str_eq(tlsrpt_result_type(SMTP_TLS_NOT_OFFERED, 0), "starttls-not-supported");
	cr_assert_str_eq(tlsrpt_result_type(SMTP_TLS_UNVERIFIED, X509_V_ERR_HOSTNAME_MISMATCH),
			 "certificate-host-mismatch");
	cr_assert_str_eq(tlsrpt_result_type(SMTP_TLS_FAILED, X509_V_ERR_CERT_HAS_EXPIRED), "certificate-expired");
	cr_assert_str_eq(tlsrpt_result_type(SMTP_TLS_FAILED, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
			 "certificate-not-trusted");
	cr_assert_str_eq(tlsrpt_result_type(SMTP_TLS_UNVERIFIED, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
			 "certificate-not-trusted");
	cr_assert_str_eq(tlsrpt_result_type(SMTP_TLS_FAILED, X509_V_ERR_DANE_NO_MATCH), "certificate-host-mismatch");
	cr_assert_str_eq(tlsrpt_result_type(SMTP_TLS_FAILED, X509_V_ERR_CERT_SIGNATURE_FAILURE), "validation-failure");
	cr_assert_str_eq(tlsrpt_result_type(SMTP_TLS_FAILED, 0), "validation-failure", "a broken handshake");
}

Test(tlsrpt_session, outcome_of_an_attempt)
{
	struct tlsrpt_session s;
	struct smtp_tls_attempt a = { SMTP_TLS_VERIFIED, 0, "mx.example.test", "192.0.2.1", "198.51.100.25" };
	tlsrpt_session_no_policy(&s, "Example.TEST");
	cr_assert_str_eq(s.domain, "example.test", "lower case");
	tlsrpt_session_outcome(&s, &a);
	cr_assert_null(s.result);
	a.outcome = SMTP_TLS_UNVERIFIED;
	a.verify_error = X509_V_ERR_HOSTNAME_MISMATCH;
	tlsrpt_session_outcome(&s, &a);
	cr_assert_str_eq(s.result, "certificate-host-mismatch");
	cr_assert_str_eq(s.receiving_mx, "mx.example.test");
	cr_assert_str_eq(s.receiving_ip, "192.0.2.1");
	cr_assert_str_eq(s.sending_ip, "198.51.100.25");
	cr_assert_str_eq(s.reason, "hostname mismatch");
	a = (struct smtp_tls_attempt){ SMTP_TLS_FAILED, 0, "mx.example.test", "192.0.2.1", "" };
	tlsrpt_session_outcome(&s, &a);
	cr_assert_str_eq(s.result, "validation-failure");
	cr_assert_str_eq(s.reason, "TLS handshake failed");
	tlsrpt_session_clear(&s);
}

Test(tlsrpt_session, policy_strings)
{
	struct mtasts_policy p = { .mode = MTASTS_ENFORCE, .max_age = 604800, .n_mx = 2 };
	snprintf(p.mx[0], sizeof(p.mx[0]), "mx1.example.test");
	snprintf(p.mx[1], sizeof(p.mx[1]), "*.example.test");
	struct tlsrpt_session s;
	tlsrpt_session_sts(&s, "example.test", &p);
	cr_assert_str_eq(s.policy_type, "sts");
	cr_assert_str_eq(s.policy_string,
			 "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmx: *.example.test\nmax_age: 604800");
	cr_assert_str_eq(s.mx_host, "mx1.example.test\n*.example.test");
	tlsrpt_session_clear(&s);

	struct tlsa_set t = { .n = 1 };
	t.r[0] = (struct tlsa_record){ .usage = 3, .selector = 1, .mtype = 1, .len = 3, .data = { 0xab, 0x01, 0xff } };
	tlsrpt_session_tlsa(&s, "example.test", &t);
	cr_assert_str_eq(s.policy_type, "tlsa");
	cr_assert_str_eq(s.policy_string, "3 1 1 ab01ff");
	tlsrpt_session_clear(&s);
}
