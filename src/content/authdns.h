/*
 * The DNS records that DKIM and DMARC need for one message, fetched
 * before its checks run: checks must not touch the network (check.h), so
 * the scanner's main thread reads the header section, works out the names
 * (s._domainkey.d of each DKIM-Signature, _dmarc of the From domain and
 * of its organizational domain, RFC 6376 3.6.2, RFC 7489 6.6.3), and
 * looks them up with the asynchronous resolver (dns/dns.h); the checks in
 * the worker threads then answer their key and policy lookups from these
 * records alone. A lookup that times out is a temporary error, never a
 * refusal.
 *
 * authdns_plan and authdns_find are pure; authdns_fetch runs on the
 * scanner's event loop. Once the fetch is done, the records are read-only
 * and may be read from any thread.
 */
#ifndef MW_CONTENT_AUTHDNS_H
#define MW_CONTENT_AUTHDNS_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/dns.h"

/* Signatures looked at per message: more are ignored (a message with
 * dozens of signatures is not made to cost dozens of lookups). */
#define AUTHDNS_SIGNATURES_MAX 4
#define AUTHDNS_NAMES_MAX (AUTHDNS_SIGNATURES_MAX + 2)
/* The header section searched for DKIM-Signature and From: a field
 * beyond it is not seen (its signature then has no key: temperror). */
#define AUTHDNS_HEADER_MAX (256 * 1024)
/* TXT text kept per name (the joined strings of its records). */
#define AUTHDNS_TEXT_MAX 4096

struct authdns_record {
	char name[256];             /* as queried, lower case */
	enum dns_status status;
	char text[AUTHDNS_TEXT_MAX];  /* DNS_OK: the first record that fits (DKIM) or the DMARC one */
	struct authdns *owner;      /* private to the fetch */
};

struct authdns {
	/* The RFC 5322 From domain (lower case), "" if the message has no
	 * From or more than one address in it (RFC 7489 6.6.1: no DMARC). */
	char from_domain[256];
	char org_domain[256];       /* its organizational domain ("" = unknown) */
	size_t n;
	struct authdns_record rec[AUTHDNS_NAMES_MAX];
	/* Private to the fetch. */
	size_t pending;
	void (*done)(void *arg);
	void *arg;
};

/* The organizational domain of domain (RFC 7489 3.2) into out, via the
 * public suffix list loaded by authdns_load_suffixes (else the last two
 * labels); false if it has none. */
typedef bool (*authdns_org_fn)(const char *domain, char *out, size_t cap);

/* The names to look up for the header section hdr[0..len): DKIM keys when
 * dkim, DMARC records when dmarc. Fills a (zeroed by the caller). */
void authdns_plan(struct authdns *a, const char *hdr, size_t len, bool dkim, bool dmarc, authdns_org_fn org);

/* Look every planned name up; done(arg) runs on the loop once all have
 * answered (failures included: c-ares' own timeout bounds the wait), or
 * at once, from within this call, if there is nothing to look up. */
void authdns_fetch(struct authdns *a, struct dns *d, void (*done)(void *arg), void *arg);

/* The record of name (any case), or NULL if it was not planned. */
const struct authdns_record *authdns_find(const struct authdns *a, const char *name);

/* The value of tag in a DKIM-style tag list (RFC 6376 3.2: "a=x; b=y",
 * white space anywhere around tags) into out without white space; false
 * if it is missing, empty, holds a NUL byte or does not fit. */
bool authdns_tag(const char *list, size_t len, const char *tag, char *out, size_t cap);

/* The domain of the header section's From address, lower case, into out:
 * false ("") unless there is exactly one From field with exactly one
 * address (RFC 7489 6.6.1) whose domain passes authdns_name_ok. */
bool authdns_from_domain(const char *hdr, size_t len, char *out, size_t cap);

/* Is s a name we may look up and print in a header: letters, digits,
 * '-', '_' and dots between labels, at most 253 bytes? */
bool authdns_name_ok(const char *s);

#endif
