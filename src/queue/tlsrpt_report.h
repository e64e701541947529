/*
 * The TLS-RPT report (RFC 8460 4) of one policy domain for one UTC day:
 * the JSON, gzipped, in the mail of 5.3 (multipart/report;
 * report-type="tlsrpt" with an application/tlsrpt+gzip part). Pure:
 * builds bytes, no I/O; runs in the queue process.
 */
#ifndef MW_QUEUE_TLSRPT_REPORT_H
#define MW_QUEUE_TLSRPT_REPORT_H

#include <stddef.h>
#include <time.h>

#include "state/tlsrpt_store.h"

struct tlsrpt_report_info {
	const char *organization;   /* organization-name */
	const char *contact;        /* contact-info */
	const char *submitter;      /* our hostname (TLS-Report-Submitter) */
	const char *from;           /* the reporting address */
	const char *domain;         /* the policy domain (TLS-Report-Domain) */
	time_t day;                 /* 00:00:00 UTC of the day reported */
	const char *report_id;      /* unique, no "<>", printable ASCII */
	const char *to;             /* the rua addresses, ", " between them */
	const char *boundary, *message_id;
	time_t now;
};

/* The JSON (4.4) of rows, the day's counts of info->domain as the store
 * orders them: one "policies" entry per distinct policy, its summary and
 * its failure details. Malloc'ed, NUL-terminated, length in *len. */
char *tlsrpt_report_json(const struct tlsrpt_report_info *info, const struct tlsrpt_row *rows, size_t n,
			 size_t *len);

/* data gzipped (RFC 1952, what application/tlsrpt+gzip is); NULL on a
 * zlib error. */
unsigned char *tlsrpt_gzip(const char *data, size_t len, size_t *out_len);

/* The report mail (5.3, CRLF lines) carrying gz. Malloc'ed, length in *len. */
char *tlsrpt_report_mail(const struct tlsrpt_report_info *info, const unsigned char *gz, size_t gzlen,
			 size_t *len);

#endif
