/*
 * What deliver.c tells TLS-RPT (RFC 8460) about one MX delivery job:
 * the TLS session with the host that answered, or a failure of the
 * domain's policy before any session. The job's policy decides what is
 * counted: DANE (the TLSA records of the host tried), else MTA-STS, else
 * nothing (no policy, no report). Runs on the queue's event loop.
 */
#ifndef MW_QUEUE_TLSRPT_NOTE_H
#define MW_QUEUE_TLSRPT_NOTE_H

struct config;
struct dane_result;
struct mtasts_result;
struct mx_plan;
struct smtp_tls_attempt;
struct tlsrpt;

/* The job's policy: sts (found or not), dane (NULL: DANE does not
 * apply), the MX hosts dane's entries belong to. */
struct tlsrpt_job {
	struct tlsrpt *t;
	const struct config *c;
	const char *domain;
	const struct mtasts_result *sts;
	const struct dane_result *dane;
	const struct mx_plan *plan;
};

/* A TLS session the client reported (smtp_client_job's tls_attempt). */
void tlsrpt_note_session(struct tlsrpt_job j, const struct smtp_tls_attempt *a);

/* A failure before any session (result: an RFC 8460 result type) with
 * MX host mx, or NULL for none in particular. */
void tlsrpt_note_failure(struct tlsrpt_job j, const char *result, const char *mx, const char *reason);

#endif
