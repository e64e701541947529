/*
 * One TLS session as TLS-RPT (RFC 8460) counts it: the policy that
 * applied to the delivery (4.3: its type, its text, its domain and MX
 * patterns) and the outcome, a success or a failure with the RFC's result
 * type (4.3.2) and where it happened. Made by deliver.c from the MTA-STS
 * policy or the DANE TLSA records of a job and the client's report of the
 * session; counted by queue/tlsrpt.h. Pure: no I/O; runs in the queue
 * process.
 */
#ifndef MW_QUEUE_TLSRPT_SESSION_H
#define MW_QUEUE_TLSRPT_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp/client.h"

struct mtasts_policy;
struct tlsa_set;

#define TLSRPT_FIELD_MAX 256

struct tlsrpt_session {
	char domain[TLSRPT_FIELD_MAX];      /* policy-domain, lower case */
	const char *policy_type;            /* "sts", "tlsa" or "no-policy-found" (static) */
	char *policy_string;                /* policy-string lines, '\n' between them (owned) */
	char *mx_host;                      /* mx-host patterns of an STS policy, '\n' between (owned) */
	const char *result;                 /* NULL: success; else a result-type (static) */
	char receiving_mx[TLSRPT_FIELD_MAX];/* receiving-mx-hostname, "" if unknown */
	char receiving_ip[64];              /* receiving-ip, "" if unknown */
	char sending_ip[64];                /* sending-mta-ip, "" if unknown */
	char reason[200];                   /* failure-reason-code: a short text of ours, "" if none */
};

/* A session under the domain's MTA-STS policy (RFC 8460 4.3: the policy
 * file's lines as policy-string, its mx patterns as mx-host). */
void tlsrpt_session_sts(struct tlsrpt_session *s, const char *domain, const struct mtasts_policy *p);

/* A session under DANE: the TLSA records of the MX host tried, in
 * presentation form ("3 1 1 <hex>"), as policy-string. */
void tlsrpt_session_tlsa(struct tlsrpt_session *s, const char *domain, const struct tlsa_set *t);

/* A failure before any session, without a usable policy (4.3.2.2:
 * sts-policy-fetch-error, sts-policy-invalid): type no-policy-found. */
void tlsrpt_session_no_policy(struct tlsrpt_session *s, const char *domain);

/* The outcome (4.3.2) of the client's TLS attempt a. */
void tlsrpt_session_outcome(struct tlsrpt_session *s, const struct smtp_tls_attempt *a);

/* The result type for a TLS attempt that did not verify. Pure. */
const char *tlsrpt_result_type(enum smtp_tls_outcome outcome, long verify_error);

void tlsrpt_session_clear(struct tlsrpt_session *s);

#endif
