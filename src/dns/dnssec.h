/*
 * DNSSEC-validated lookups for DANE (RFC 7672, TLS-8), on libunbound.
 *
 * Why libunbound and not the AD bit of a resolver on loopback: c-ares
 * 1.18 (Debian 12) neither sets the AD/DO bits in its queries nor hands
 * back the AD bit of an answer through its parsed API, and trusting an AD
 * bit means trusting the path to that resolver. libunbound validates the
 * answers itself, from a trust anchor file, whoever answered: the
 * configured resolver (which need not validate; it must pass DNSSEC
 * records through) or, without one, the root servers.
 *
 * Runs on the queue's libevent loop: libunbound resolves in its own
 * thread and signals its file descriptor; callbacks run on the loop.
 */
#ifndef MW_DNS_DNSSEC_H
#define MW_DNS_DNSSEC_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct dnssec;

enum dnssec_status {
	DNSSEC_SECURE,     /* validated: the data (or its absence) is proven */
	DNSSEC_INSECURE,   /* no chain of trust covers the name (unsigned) */
	DNSSEC_BOGUS,      /* signed, but the validation failed */
	DNSSEC_FAIL,       /* no answer (timeout, SERVFAIL, resolver error) */
	DNSSEC_STOPPED,    /* the validator is being freed */
};

#define DNSSEC_RDATA_MAX 16

struct dnssec_answer {
	enum dnssec_status status;
	size_t n;                              /* records (0: NODATA or NXDOMAIN) */
	const uint8_t *rdata[DNSSEC_RDATA_MAX];
	size_t len[DNSSEC_RDATA_MAX];
	const char *why;                       /* libunbound's reason when bogus */
};

/* trust_anchor: a file of DS or DNSKEY records (ub_ctx_add_ta_file);
 * resolver: "ADDR" or "ADDR@PORT" to forward to, NULL: recurse from the
 * root. NULL (err filled) on failure. */
struct dnssec *dnssec_new(struct event_base *base, const char *trust_anchor, const char *resolver, char *err,
			  size_t errlen);
/* Every query still running ends with DNSSEC_STOPPED, then all is freed. */
void dnssec_free(struct dnssec *d);

/* cb runs once, from the loop (or inside dnssec_free). The answer is only
 * valid during the call. */
typedef void (*dnssec_cb)(void *arg, const struct dnssec_answer *a);
void dnssec_query(struct dnssec *d, const char *name, int rrtype, dnssec_cb cb, void *arg);

#endif
