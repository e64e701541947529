/*
 * Known communication partners (issue 13, SCAN-11): pairs of an internal
 * address and an external address, with the external domain, the time
 * first and last seen and how often mail flowed between them, in SQLite
 * in the state directory.
 *
 * Contract: one process owns the database for writing (the queue, which
 * knows delivery results and verdicts); every call here may block on
 * disk, so it never runs on smtpd's event loop. smtpd answers RCPT from
 * the in-memory partner_cache (state/partner_cache.h) instead.
 *
 * Addresses are stored lowered: partners are matched case-blind, as
 * every mailbox provider we deliver to treats local parts (RFC 5321
 * section 2.4 allows case-sensitive local parts, but a partner list that
 * missed "Bob@" for "bob@" would refuse real correspondents).
 */
#ifndef MW_STATE_PARTNERS_H
#define MW_STATE_PARTNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct partners;

struct partner_pair {
	const char *internal;   /* local address, e.g. "alice@example.org" */
	const char *external;   /* remote address, e.g. "bob@partner.test" */
};

struct partner_row {
	const char *internal, *external, *domain;
	time_t first_seen, last_seen;
	long long count;
};

/* Open or create the store; NULL (and logged) on failure. */
struct partners *partners_open(const char *path);
/* Open an existing store for reading only (smtpd, before its chroot:
 * the descriptor stays usable inside); NULL when it is not there. The
 * file may be empty yet: the reads fail until the writer has made the
 * tables. */
struct partners *partners_open_reader(const char *path);
void partners_close(struct partners *p);

/* Note that mail flowed between each pair at `now`: insert it
 * (first_seen = last_seen = now, count 1) or bump last_seen and count.
 * All n in one transaction: the queue batches what it learns and writes
 * behind. Pairs with an address lacking '@' or longer than the RFC 5321
 * path limit are skipped. Returns false on a database error (nothing of
 * the batch is written). */
bool partners_learn(struct partners *p, const struct partner_pair *pairs, size_t n, time_t now);

/* Remove one pair; returns 1 removed, 0 not there, -1 error. */
int partners_remove(struct partners *p, const char *internal, const char *external);

/* Forget pairs last seen more than max_age seconds before now; returns
 * the number removed or -1 on error. */
long long partners_expire(struct partners *p, time_t now, long long max_age);

/* Call fn for every pair (ordered by internal, external); stops early
 * when fn returns false. Returns false on a database error. */
bool partners_each(struct partners *p, bool (*fn)(const struct partner_row *row, void *arg), void *arg);

/* The same for the pairs last seen at or after since (a reader's update:
 * new pairs and renewed ones). */
bool partners_each_since(struct partners *p, time_t since, bool (*fn)(const struct partner_row *row, void *arg),
			 void *arg);

/* A number that grows whenever pairs are removed (remove, expire): a
 * reader whose cache was built at another generation builds it anew;
 * learned pairs only add, and partners_each_since finds them. -1 on
 * error. */
long long partners_generation(struct partners *p);

/* The domain part of an address (after the last '@'), or NULL. */
const char *partners_domain(const char *address);

#endif
