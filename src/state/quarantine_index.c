/*
 * See quarantine_index.h. Runs in the queue process.
 */
#include "state/quarantine_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "state/sqlite_db.h"
#include "util/alloc.h"
#include "util/log.h"

struct qindex {
	sqlite3 *db;
};

/* WAL: listing reads while the queue writes; synchronous=NORMAL: a
 * power loss may lose the last rows, which the start-up reconciliation
 * with the directory brings back (the files are the truth). */
static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS held ("
	"  id TEXT PRIMARY KEY, arrival INTEGER NOT NULL, direction TEXT NOT NULL, client TEXT NOT NULL,"
	"  sender TEXT NOT NULL, subject TEXT NOT NULL, score INTEGER NOT NULL, verdict TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS held_arrival ON held (arrival);"
	"CREATE TABLE IF NOT EXISTS held_rcpt ("
	"  id TEXT NOT NULL, rcpt TEXT NOT NULL, released INTEGER NOT NULL DEFAULT 0,"
	"  digested INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (id, rcpt));"
	"CREATE INDEX IF NOT EXISTS held_rcpt_digest ON held_rcpt (digested, rcpt);"
	"CREATE TABLE IF NOT EXISTS action ("
	"  at INTEGER NOT NULL, id TEXT NOT NULL, what TEXT NOT NULL, by TEXT NOT NULL, operator TEXT,"
	"  detail TEXT);"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

static bool fail(struct qindex *x, const char *op)
{
	sqlite_db_fail("quarantine_index_error", x ? x->db : NULL, op);
	return false;
}

struct qindex *qindex_open(const char *path)
{
	sqlite3 *db = sqlite_db_open_logged("quarantine_index_error", "open", path,
					   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, 1000, schema);
	if (!db)
		return NULL;
	struct qindex *x = xcalloc(1, sizeof(*x));
	x->db = db;
	return x;
}

void qindex_close(struct qindex *x)
{
	if (!x)
		return;
	sqlite3_close(x->db);
	free(x);
}

/* Prepare sql; NULL (logged) on failure. */
static sqlite3_stmt *prepare(struct qindex *x, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fail(x, "prepare");
		return NULL;
	}
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Step a statement that returns no rows, and finalize it. */
static bool run_done(struct qindex *x, sqlite3_stmt *st, const char *op)
{
	if (!st)
		return false;
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || fail(x, op);
}

/* One statement with up to two text parameters (NULL: SQL NULL). */
static bool exec2(struct qindex *x, const char *sql, const char *a, const char *b, const char *op)
{
	sqlite3_stmt *st = prepare(x, sql);
	if (st) {
		bind_text(st, 1, a);
		bind_text(st, 2, b);
	}
	return run_done(x, st, op);
}

static bool exec_plain(struct qindex *x, const char *sql, const char *op)
{
	return sqlite3_exec(x->db, sql, NULL, NULL, NULL) == SQLITE_OK || fail(x, op);
}

/* Keep the savepoint's changes (ok) or undo them; then leave it. */
static bool end_savepoint(struct qindex *x, bool ok)
{
	if (!ok)
		exec_plain(x, "ROLLBACK TO row", "rollback");
	return exec_plain(x, "RELEASE row", "commit") && ok;
}

bool qindex_batch_begin(struct qindex *x)
{
	return exec_plain(x, "BEGIN IMMEDIATE", "begin");
}

bool qindex_batch_end(struct qindex *x)
{
	return exec_plain(x, "COMMIT", "commit");
}

bool qindex_add(struct qindex *x, const struct qindex_msg *m)
{
	/* A savepoint: alone it is a transaction of its own, inside
	 * qindex_batch_begin() it joins the batch. */
	if (!exec_plain(x, "SAVEPOINT row", "begin"))
		return false;
	bool ok = exec2(x, "DELETE FROM held_rcpt WHERE id = ?1", m->id, NULL, "add");
	sqlite3_stmt *st = ok ? prepare(x, "INSERT OR REPLACE INTO held (id, arrival, direction, client, sender, "
					   "subject, score, verdict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
			      : NULL;
	if (st) {
		bind_text(st, 1, m->id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)m->arrival);
		bind_text(st, 3, m->direction);
		bind_text(st, 4, m->client ? m->client : "");
		bind_text(st, 5, m->sender ? m->sender : "");
		bind_text(st, 6, m->subject ? m->subject : "");
		sqlite3_bind_int(st, 7, m->score);
		bind_text(st, 8, m->verdict ? m->verdict : "");
	}
	ok = run_done(x, st, "add");
	for (size_t i = 0; ok && i < m->n_rcpts; i++)
		ok = exec2(x, "INSERT OR IGNORE INTO held_rcpt (id, rcpt) VALUES (?1, ?2)", m->id, m->rcpts[i],
			   "add");
	return end_savepoint(x, ok);
}

bool qindex_remove(struct qindex *x, const char *id)
{
	if (!exec_plain(x, "SAVEPOINT row", "begin"))
		return false;
	bool ok = exec2(x, "DELETE FROM held_rcpt WHERE id = ?1", id, NULL, "remove") &&
		  exec2(x, "DELETE FROM held WHERE id = ?1", id, NULL, "remove");
	return end_savepoint(x, ok);
}

bool qindex_mark_released(struct qindex *x, const char *id, const char *rcpt)
{
	return exec2(x, "UPDATE held_rcpt SET released = 1 WHERE id = ?1 AND rcpt = ?2", id, rcpt, "release");
}

bool qindex_log_action(struct qindex *x, uint64_t at, const char *id, const char *what, const char *by,
		       const char *operator, const char *detail)
{
	sqlite3_stmt *st = prepare(x, "INSERT INTO action (at, id, what, by, operator, detail) "
				      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
		bind_text(st, 2, id);
		bind_text(st, 3, what);
		bind_text(st, 4, by);
		bind_text(st, 5, operator);
		bind_text(st, 6, detail);
	}
	return run_done(x, st, "log_action");
}

static const char *column(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? (const char *)s : "";
}

bool qindex_each_id(struct qindex *x, void (*each)(const char *id, void *arg), void *arg)
{
	sqlite3_stmt *st = prepare(x, "SELECT id FROM held");
	if (!st)
		return false;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		each(column(st, 0), arg);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || fail(x, "each_id");
}

long qindex_each_older(struct qindex *x, uint64_t cutoff, size_t max, void (*each)(const char *id, void *arg),
		       void *arg)
{
	sqlite3_stmt *st = prepare(x, "SELECT id FROM held WHERE arrival <= ?1 ORDER BY arrival, id LIMIT ?2");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	/* Collected first: each() removes rows, which must not happen under
	 * a running SELECT on the same table. */
	char (*ids)[32] = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		snprintf(ids[n++], sizeof(ids[0]), "%s", column(st, 0));
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++)
		each(ids[i], arg);
	free(ids);
	return rc == SQLITE_DONE ? (long)n : (fail(x, "each_older"), -1);
}

#define ROW_COLUMNS                                                                                   \
	"h.id, h.arrival, h.direction, h.client, h.sender, h.subject, h.score, h.verdict, "           \
	"(SELECT group_concat(rcpt, ',') FROM held_rcpt r WHERE r.id = h.id), "                       \
	"(SELECT group_concat(rcpt, ',') FROM held_rcpt r WHERE r.id = h.id AND r.released) "

static struct qindex_row row_of(sqlite3_stmt *st)
{
	return (struct qindex_row){ .id = column(st, 0), .arrival = (uint64_t)sqlite3_column_int64(st, 1),
				    .direction = column(st, 2), .client = column(st, 3), .sender = column(st, 4),
				    .subject = column(st, 5), .score = sqlite3_column_int(st, 6),
				    .verdict = column(st, 7), .rcpts = column(st, 8), .released = column(st, 9) };
}

/* Every row of st to each(); false on a database error. */
static bool each_row(struct qindex *x, sqlite3_stmt *st, void (*each)(const struct qindex_row *r, void *arg),
		     void *arg)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct qindex_row r = row_of(st);
		each(&r, arg);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || fail(x, "list");
}

bool qindex_list(struct qindex *x, const struct qindex_filter *f, void (*each)(const struct qindex_row *r, void *arg),
		 void *arg)
{
	/* instr(lower()) like strcasestr: ASCII case only, as addresses are. */
	sqlite3_stmt *st = prepare(x, "SELECT " ROW_COLUMNS "FROM held h "
				      "WHERE (?1 IS NULL OR instr(lower(h.sender), lower(?1)) > 0) "
				      "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM held_rcpt r WHERE r.id = h.id "
				      "AND instr(lower(r.rcpt), lower(?2)) > 0)) "
				      "AND h.arrival >= ?3 AND (?4 IS NULL OR h.score >= ?4) "
				      "ORDER BY h.arrival, h.id");
	if (!st)
		return false;
	bind_text(st, 1, f->from);
	bind_text(st, 2, f->to);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)f->since);
	if (f->has_min_score)
		sqlite3_bind_int(st, 4, f->min_score);
	return each_row(x, st, each, arg);
}

#define DIGEST_PENDING "NOT r.digested AND NOT r.released AND h.direction = 'inbound'"

/* The recipients who have held mail not yet in a digest. */
static char **digest_recipients(struct qindex *x, size_t *n)
{
	*n = 0;
	sqlite3_stmt *st = prepare(x, "SELECT DISTINCT r.rcpt FROM held_rcpt r JOIN held h ON h.id = r.id WHERE "
				      DIGEST_PENDING " ORDER BY r.rcpt");
	if (!st)
		return NULL;
	char **list = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		list = xreallocarray(list, *n + 1, sizeof(*list));
		list[(*n)++] = xstrdup(column(st, 0));
	}
	sqlite3_finalize(st);
	return list;
}

static size_t digest_count(struct qindex *x, const char *rcpt)
{
	sqlite3_stmt *st = prepare(x, "SELECT count(*) FROM held_rcpt r JOIN held h ON h.id = r.id WHERE r.rcpt = ?1 "
				      "AND " DIGEST_PENDING);
	if (!st)
		return 0;
	bind_text(st, 1, rcpt);
	size_t n = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return n;
}

/* One recipient's digest: its rows, then the mark that they were listed
 * (only if end() sent the mail). */
static bool digest_one(struct qindex *x, const char *rcpt, size_t max,
		       void (*begin)(const char *rcpt, size_t total, void *arg),
		       void (*row)(const struct qindex_row *r, void *arg), bool (*end)(const char *rcpt, void *arg),
		       void *arg)
{
	begin(rcpt, digest_count(x, rcpt), arg);
	sqlite3_stmt *st = prepare(x, "SELECT " ROW_COLUMNS "FROM held h JOIN held_rcpt r0 ON r0.id = h.id "
				      "WHERE r0.rcpt = ?1 AND NOT r0.digested AND NOT r0.released "
				      "AND h.direction = 'inbound' ORDER BY h.arrival, h.id LIMIT ?2");
	if (!st)
		return false;
	bind_text(st, 1, rcpt);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	if (!each_row(x, st, row, arg) || !end(rcpt, arg))
		return false;
	return exec2(x, "UPDATE held_rcpt SET digested = 1 WHERE rcpt = ?1 AND NOT released AND id IN "
			"(SELECT id FROM held WHERE direction = 'inbound')", rcpt, NULL, "digest");
}

long qindex_digest(struct qindex *x, size_t max, void (*begin)(const char *rcpt, size_t total, void *arg),
		   void (*row)(const struct qindex_row *r, void *arg), bool (*end)(const char *rcpt, void *arg),
		   void *arg)
{
	size_t n;
	char **rcpts = digest_recipients(x, &n);
	long sent = 0;
	for (size_t i = 0; i < n; i++) {
		if (digest_one(x, rcpts[i], max, begin, row, end, arg))
			sent++;
		free(rcpts[i]);
	}
	free(rcpts);
	return sent;
}

uint64_t qindex_last_digest(struct qindex *x)
{
	sqlite3_stmt *st = prepare(x, "SELECT value FROM meta WHERE key = 'last_digest'");
	if (!st)
		return 0;
	uint64_t at = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return at;
}

bool qindex_set_last_digest(struct qindex *x, uint64_t at)
{
	sqlite3_stmt *st = prepare(x, "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_digest', ?1)");
	if (st)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
	return run_done(x, st, "last_digest");
}
