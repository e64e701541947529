/*
 * The quarantine index (issue 11): one SQLite file, spool/quarantine.db
 * (WAL), with a row per quarantined message (arrival, direction, client,
 * sender, subject, score, symbols, action), a row per recipient of it
 * (released yet, listed in a digest yet), the log of administrator
 * actions (who, when, what; kept after the message is gone) and the time
 * of the last digest.
 *
 * The files in spool/quarantine/ are the truth; the index is a copy that
 * makes listing and the digest cheap. The queue process alone opens it
 * (in its main thread; FULLMUTEX lets a worker thread use it too) and
 * keeps it in step: a row is added after the file's rename into
 * quarantine/ is durable, removed after the file's unlink; at start the
 * queue reconciles both (quarantine/keeper.h), so a crash between file
 * and row leaves neither a lost message nor a ghost row.
 */
#ifndef MW_STATE_QUARANTINE_INDEX_H
#define MW_STATE_QUARANTINE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qindex;

struct qindex_msg {
	const char *id;
	uint64_t arrival;          /* Unix time */
	const char *direction;     /* "inbound" or "outbound" */
	const char *client, *sender, *subject;
	int score;                 /* hundredths (verdict/points.h) */
	const char *verdict;       /* "action score symbols" as in the spool file */
	const char *const *rcpts;  /* the recipients still held */
	size_t n_rcpts;
};

/* Open (creating) the index at path. NULL on failure (logged). */
struct qindex *qindex_open(const char *path);
void qindex_close(struct qindex *x);

/* Many changes in one transaction (the rebuild at start): the adds and
 * removes between begin and end are committed together. */
bool qindex_batch_begin(struct qindex *x);
bool qindex_batch_end(struct qindex *x);

/* Add or replace the row of m (and its recipients) in one transaction. */
bool qindex_add(struct qindex *x, const struct qindex_msg *m);
/* The message is gone from quarantine/: drop its rows. */
bool qindex_remove(struct qindex *x, const char *id);
/* Recipient rcpt of id was released (it stays listed as such). */
bool qindex_mark_released(struct qindex *x, const char *id, const char *rcpt);

/* Append to the action log: at, id, what ("release", "delete",
 * "expire", "digest"), by (the Unix user, or "expiry"), operator (the
 * name given with --by, or NULL) and detail (free text, or NULL). */
bool qindex_log_action(struct qindex *x, uint64_t at, const char *id, const char *what, const char *by,
		       const char *operator, const char *detail);

/* Every indexed id, for the reconciliation with the directory: calls
 * each(id, arg) once per row; false on a database error. */
bool qindex_each_id(struct qindex *x, void (*each)(const char *id, void *arg), void *arg);

/* Ids of messages that arrived at or before cutoff, oldest first, at
 * most max; each(id, arg) per id. Returns how many, or -1. */
long qindex_each_older(struct qindex *x, uint64_t cutoff, size_t max, void (*each)(const char *id, void *arg),
		       void *arg);

struct qindex_filter {
	const char *from;        /* substring of the sender, any case; NULL: any */
	const char *to;          /* substring of a recipient, any case; NULL: any */
	uint64_t since;          /* arrived at or after; 0: any */
	bool has_min_score;
	int min_score;           /* hundredths */
};

/* One listed message: fields as in qindex_msg; rcpts is "a@x,b@y",
 * released the recipients already released ("" if none). */
struct qindex_row {
	const char *id, *direction, *client, *sender, *subject, *verdict, *rcpts, *released;
	uint64_t arrival;
	int score;
};

/* The messages f lets through, oldest first. */
bool qindex_list(struct qindex *x, const struct qindex_filter *f, void (*each)(const struct qindex_row *r, void *arg),
		 void *arg);

/* The digest: for each recipient of inbound mail held and not yet in a
 * digest (nor released to them), oldest first: begin(rcpt, total, arg)
 * once, row() for at most max of them, then end(); if end() returns
 * true (the mail is queued) every such message of that recipient counts
 * as listed, also those past max. Returns the number of digests sent. */
long qindex_digest(struct qindex *x, size_t max, void (*begin)(const char *rcpt, size_t total, void *arg),
		   void (*row)(const struct qindex_row *r, void *arg), bool (*end)(const char *rcpt, void *arg),
		   void *arg);

/* The time of the last digest (0: never), and setting it. */
uint64_t qindex_last_digest(struct qindex *x);
bool qindex_set_last_digest(struct qindex *x, uint64_t at);

#endif
