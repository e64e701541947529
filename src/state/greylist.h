/*
 * Greylisting state (SCAN-4 extra, off by default): triplets of client
 * network, sender and recipient with the time first seen, in SQLite.
 *
 * Opened by each smtpd before its privilege drop and chroot (the file
 * lives in the state directory, outside the chroot): the database is used
 * through the descriptor opened then, with the rollback journal in memory
 * so that SQLite never needs to open another file by name. Several smtpd
 * processes share the file under SQLite's own locking. Lookups are local
 * disk reads of a small table (no fsync: the greylist is a cache; losing
 * it only delays some mail once more).
 */
#ifndef MW_STATE_GREYLIST_H
#define MW_STATE_GREYLIST_H

#include <stdbool.h>
#include <time.h>

struct greylist;

enum greylist_result {
	GREYLIST_PASS,      /* seen long enough ago (or already passed): accept */
	GREYLIST_DEFER,     /* new or too recent: answer 451 */
	GREYLIST_ERROR,     /* database trouble: accept (fail open) */
};

struct greylist *greylist_open(const char *path);
void greylist_close(struct greylist *g);

/* key: "network|sender|recipient". delay: seconds before a retry passes;
 * expiry: seconds after which an idle triplet is forgotten. */
enum greylist_result greylist_check(struct greylist *g, const char *key, time_t now,
				    unsigned delay, unsigned expiry);

#endif
