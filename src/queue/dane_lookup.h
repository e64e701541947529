/*
 * DANE for one MX delivery (RFC 7672 2.2, TLS-8): is the domain's MX
 * RRset DNSSEC-validated, and which of its MX hosts have usable TLSA
 * records at "_25._tcp.<host>"? All queries go out at once on the
 * validator (dns/dnssec.h); the callback runs when all are in.
 *
 * Outcome (RFC 7672 2.1.1, 2.2):
 *   - MX not secure (unsigned): DANE does not apply (MTA-STS or may);
 *   - MX bogus or unanswered: the delivery defers (mx_failed);
 *   - per host: secure TLSA with usable records: DANE_HOST_USABLE, TLS
 *     authenticated by them is required; no records, unsigned, or only
 *     unusable ones: DANE_HOST_NONE (that host gets the job's level);
 *     bogus or unanswered TLSA: DANE_HOST_FAILED, the host is skipped.
 *   DANE applies to the job when the MX is secure and a host is usable or
 *   failed.
 */
#ifndef MW_QUEUE_DANE_LOOKUP_H
#define MW_QUEUE_DANE_LOOKUP_H

#include <stdbool.h>

#include "dns/tlsa.h"
#include "queue/mx.h"

struct dnssec;

enum dane_host { DANE_HOST_NONE, DANE_HOST_USABLE, DANE_HOST_FAILED };

struct dane_result {
	bool stopped;                /* the queue is shutting down */
	bool mx_secure, mx_failed;
	bool applies;
	char why[300];               /* for mx_failed: what went wrong */
	enum dane_host host[MX_HOSTS_MAX];
	struct tlsa_set tlsa[MX_HOSTS_MAX];  /* of the usable hosts */
};

/* cb runs once from the loop (or within dnssec_free), with a result the
 * callback owns (free() it). plan is copied. */
typedef void (*dane_lookup_cb)(void *arg, struct dane_result *r);
void dane_lookup_start(struct dnssec *v, const char *domain, const struct mx_plan *plan, dane_lookup_cb cb,
		       void *arg);

#endif
