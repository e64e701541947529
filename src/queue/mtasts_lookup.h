/*
 * The MTA-STS policy of a recipient domain, for one delivery (RFC 8461 5,
 * TLS-8). Runs in the queue process; never blocks its event loop:
 *   1. "_mta-sts.<domain>" TXT on c-ares (dns/dns.h);
 *   2. with a valid record, A and AAAA of "mta-sts.<domain>", also c-ares
 *      (the gateway's resolver, as for MX hosts);
 *   3. in a worker thread (util/offload.h): the cache (state/mtasts_cache.h)
 *      and, when it has no unexpired policy under the record's id, the
 *      HTTPS fetch (net/https_get.h), bounded by fetch_timeout_ms.
 * Why a thread and not curl's multi interface on libevent: a fetch is
 * rare (once per domain per max_age or id change), the easy interface
 * keeps the code short, and the cache's SQLite calls need a thread
 * anyway. Two workers: one slow policy host does not hold up another.
 *
 * A cached policy past half its max_age is fetched again in the
 * background (5.1: refresh before it expires); the delivery does not wait.
 *
 * Outcome (5.1): the fetched policy; else (no record, fetch failed,
 * invalid policy) the cached one if it has not expired, whatever its id;
 * else none. A policy with mode none counts as none.
 */
#ifndef MW_QUEUE_MTASTS_LOOKUP_H
#define MW_QUEUE_MTASTS_LOOKUP_H

#include <stdbool.h>

#include "policy/mtasts.h"

struct config;
struct dns;
struct event_base;
struct mtasts_lookup;

struct mtasts_result {
	bool found;                  /* policy holds a testing or enforce policy */
	struct mtasts_policy policy;
	char id[MTASTS_ID_MAX + 1];
	const char *origin;          /* "fetched", "cache", "none": for logs */
	char why[400];               /* why not fetched, when it was not */
	/* TLS-RPT (RFC 8460 4.3.2.2): why the fetch failed, as a result
	 * type ("sts-policy-fetch-error", "sts-policy-invalid",
	 * "sts-webpki-invalid"), or NULL */
	const char *failure;
	bool stopped;                /* the queue is shutting down: defer */
};

/* db_path: the cache's file (opened in a worker on first use). NULL if
 * the workers cannot be started. */
struct mtasts_lookup *mtasts_lookup_new(struct event_base *base, const char *db_path);

/* At shutdown, before dns_free(): fetches in flight are cut short and
 * every lookup still running ends with stopped set; later lookups end
 * at once the same way. */
void mtasts_lookup_stop(struct mtasts_lookup *m);
void mtasts_lookup_free(struct mtasts_lookup *m);

/* cb runs once, from the event loop (or inside mtasts_lookup_stop, or at
 * once when stopped). The config is referenced until then. */
typedef void (*mtasts_lookup_cb)(void *arg, const struct mtasts_result *r);
void mtasts_lookup_start(struct mtasts_lookup *m, struct dns *d, const struct config *c, const char *domain,
			 mtasts_lookup_cb cb, void *arg);

#endif
