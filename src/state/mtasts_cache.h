/*
 * The MTA-STS policy cache (RFC 8461 5.1, TLS-8): per policy domain the
 * id of the TXT record the policy was fetched under, the policy text and
 * when it expires (fetch time + max_age), in SQLite under the state
 * directory. A cached unexpired policy is used while the policy host is
 * unreachable; a new id makes the policy be fetched again.
 *
 * Opened by the queue process (after its privilege drop: the file is in
 * <state_dir>/mta-sts/, the queue user's). Used from worker threads: the
 * connection is serialized (SQLITE_OPEN_FULLMUTEX) and every call
 * prepares its own statement, so calls from several threads may overlap.
 * Calls block on the disk: never on an event loop.
 */
#ifndef MW_STATE_MTASTS_CACHE_H
#define MW_STATE_MTASTS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct mtasts_cache;

struct mtasts_cached {
	char id[33];
	char *text;          /* the policy file as fetched (owned; free it) */
	size_t len;
	time_t fetched, expires;
};

struct mtasts_cache *mtasts_cache_open(const char *path);
void mtasts_cache_close(struct mtasts_cache *mc);

/* The entry of domain (lower case); false if there is none (or on a
 * database error, logged). */
bool mtasts_cache_get(struct mtasts_cache *mc, const char *domain, struct mtasts_cached *out);

/* Insert or replace the entry of domain. */
bool mtasts_cache_put(struct mtasts_cache *mc, const char *domain, const char *id, const char *text, size_t len,
		      time_t fetched, time_t expires);

#endif
