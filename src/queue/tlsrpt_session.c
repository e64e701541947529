/*
 * See tlsrpt_session.h.
 */
#include "queue/tlsrpt_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "dns/tlsa.h"
#include "policy/mtasts.h"
#include "util/alloc.h"

/* A growing '\n'-separated list of lines. */
struct lines {
	char *buf;
	size_t len, cap;
};

static void lines_add(struct lines *l, const char *fmt_line)
{
	size_t n = strlen(fmt_line);
	if (l->len + n + 2 > l->cap) {
		l->cap = (l->len + n + 2) * 2;
		l->buf = xreallocarray(l->buf, l->cap, 1);
	}
	if (l->len > 0)
		l->buf[l->len++] = '\n';
	memcpy(l->buf + l->len, fmt_line, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static char *lines_take(struct lines *l)
{
	return l->buf ? l->buf : xstrdup("");
}

static void session_init(struct tlsrpt_session *s, const char *domain, const char *type)
{
	*s = (struct tlsrpt_session){ .policy_type = type };
	size_t i = 0;
	for (; domain[i] && i + 1 < sizeof(s->domain); i++)
		s->domain[i] = (char)(domain[i] >= 'A' && domain[i] <= 'Z' ? domain[i] + 32 : domain[i]);
	s->domain[i] = '\0';
}

void tlsrpt_session_sts(struct tlsrpt_session *s, const char *domain, const struct mtasts_policy *p)
{
	char line[300];
	struct lines text = { 0 }, mx = { 0 };
	session_init(s, domain, "sts");
	lines_add(&text, "version: STSv1");
	snprintf(line, sizeof(line), "mode: %s", mtasts_mode_name(p->mode));
	lines_add(&text, line);
	for (size_t i = 0; i < p->n_mx; i++) {
		snprintf(line, sizeof(line), "mx: %s", p->mx[i]);
		lines_add(&text, line);
		lines_add(&mx, p->mx[i]);
	}
	snprintf(line, sizeof(line), "max_age: %u", p->max_age);
	lines_add(&text, line);
	s->policy_string = lines_take(&text);
	s->mx_host = lines_take(&mx);
}

void tlsrpt_session_tlsa(struct tlsrpt_session *s, const char *domain, const struct tlsa_set *t)
{
	struct lines text = { 0 };
	session_init(s, domain, "tlsa");
	/* RFC 6698 2.2: "usage selector mtype hex" */
	char *line = xmalloc(16 + 2 * TLSA_DATA_MAX + 1);
	for (size_t i = 0; t && i < t->n; i++) {
		const struct tlsa_record *r = &t->r[i];
		int n = snprintf(line, 16, "%u %u %u ", r->usage, r->selector, r->mtype);
		for (size_t k = 0; k < r->len; k++)
			n += snprintf(line + n, 3, "%02x", r->data[k]);
		lines_add(&text, line);
	}
	free(line);
	s->policy_string = lines_take(&text);
	s->mx_host = xstrdup("");
}

void tlsrpt_session_no_policy(struct tlsrpt_session *s, const char *domain)
{
	session_init(s, domain, "no-policy-found");
	s->policy_string = xstrdup("");
	s->mx_host = xstrdup("");
}

/* RFC 8460 4.3.2.1 from OpenSSL's verification error. */
const char *tlsrpt_result_type(enum smtp_tls_outcome outcome, long verify_error)
{
	if (outcome == SMTP_TLS_NOT_OFFERED)
		return "starttls-not-supported";
	switch (verify_error) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
	/* 4.3.2.1: "did not adhere to the constraints specified in the
	 * MTA-STS or DANE policy": no TLSA record matches the certificate */
	case X509_V_ERR_DANE_NO_MATCH:
		return "certificate-host-mismatch";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate-expired";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return "certificate-not-trusted";
	default:
		/* a handshake that broke off, another verification error: the
		 * RFC's general failure */
		return "validation-failure";
	}
}

void tlsrpt_session_outcome(struct tlsrpt_session *s, const struct smtp_tls_attempt *a)
{
	snprintf(s->receiving_mx, sizeof(s->receiving_mx), "%s", a->host);
	snprintf(s->receiving_ip, sizeof(s->receiving_ip), "%s", a->ip);
	snprintf(s->sending_ip, sizeof(s->sending_ip), "%s", a->source_ip);
	s->reason[0] = '\0';
	if (a->outcome == SMTP_TLS_VERIFIED) {
		s->result = NULL;
		return;
	}
	s->result = tlsrpt_result_type(a->outcome, a->verify_error);
	if (a->verify_error != X509_V_OK)
		snprintf(s->reason, sizeof(s->reason), "%s", X509_verify_cert_error_string(a->verify_error));
	else if (a->outcome == SMTP_TLS_FAILED)
		snprintf(s->reason, sizeof(s->reason), "TLS handshake failed");
}

void tlsrpt_session_clear(struct tlsrpt_session *s)
{
	free(s->policy_string);
	free(s->mx_host);
	s->policy_string = s->mx_host = NULL;
}
