/*
 * The TLS-RPT policy record (RFC 8460 3): the TXT record of
 * "_smtp._tls.<domain>", "v=TLSRPTv1; rua=mailto:reports@example.com".
 * Pure; runs in the queue process.
 */
#ifndef MW_POLICY_TLSRPT_RECORD_H
#define MW_POLICY_TLSRPT_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define TLSRPT_RUA_MAX 4          /* mailto addresses kept per record */
#define TLSRPT_ADDR_MAX 254

struct tlsrpt_record {
	char mailto[TLSRPT_RUA_MAX][TLSRPT_ADDR_MAX + 1];  /* addresses, in the record's order */
	size_t n_mailto;
	size_t n_https;               /* https: URIs, not used (we send by mail only) */
};

/* Of all TXT strings of the name: the ones that begin with "v=TLSRPTv1"
 * must be exactly one (3: else the domain has no TLS-RPT), with a rua
 * field. Its mailto: URIs (percent-decoded, "?..." dropped) that are a
 * plain local@domain address go into out. False: no usable record; why
 * says what was wrong. */
bool tlsrpt_record_pick(char *const *texts, size_t n, struct tlsrpt_record *out, char *why, size_t whylen);

#endif
