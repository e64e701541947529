/*
 * See tlsrpt_store.h. Runs on the queue process's event loop.
 */
#include "state/tlsrpt_store.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "state/sqlite_db.h"
#include "util/alloc.h"
#include "util/log.h"

struct tlsrpt_store {
	sqlite3 *db;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS session ("
	"  day TEXT NOT NULL, domain TEXT NOT NULL, policy_type TEXT NOT NULL, policy_string TEXT NOT NULL,"
	"  mx_host TEXT NOT NULL, result TEXT NOT NULL, receiving_mx TEXT NOT NULL, receiving_ip TEXT NOT NULL,"
	"  sending_ip TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,"
	"  PRIMARY KEY (day, domain, policy_type, policy_string, mx_host, result, receiving_mx, receiving_ip,"
	"    sending_ip, reason));"
	"CREATE TABLE IF NOT EXISTS sent ("
	"  day TEXT NOT NULL, domain TEXT NOT NULL, report_id TEXT NOT NULL, PRIMARY KEY (day, domain));";

static void fail(sqlite3 *db, const char *op)
{
	sqlite_db_fail("tlsrpt_store_error", db, op);
}

struct tlsrpt_store *tlsrpt_store_open(const char *path)
{
	sqlite3 *db = sqlite_db_open_logged("tlsrpt_store_error", "open", path,
					   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, 1000, schema);
	if (!db)
		return NULL;
	struct tlsrpt_store *st = xcalloc(1, sizeof(*st));
	st->db = db;
	return st;
}

void tlsrpt_store_close(struct tlsrpt_store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st);
}

static bool add_row(sqlite3_stmt *st, const char *day, const struct tlsrpt_row *r)
{
	const char *v[] = { day, r->domain, r->policy_type, r->policy_string, r->mx_host,
			    r->result, r->receiving_mx, r->receiving_ip, r->sending_ip, r->reason };
	sqlite3_reset(st);
	for (int i = 0; i < 10; i++)
		sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)r->count);
	return sqlite3_step(st) == SQLITE_DONE;
}

bool tlsrpt_store_add(struct tlsrpt_store *st, const char *day, const struct tlsrpt_row *rows, size_t n)
{
	sqlite3_stmt *ins = NULL;
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		fail(st->db, "add");
		return false;
	}
	bool ok = sqlite3_prepare_v2(st->db,
				     "INSERT INTO session (day, domain, policy_type, policy_string, mx_host, result,"
				     " receiving_mx, receiving_ip, sending_ip, reason, count)"
				     " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
				     " ON CONFLICT DO UPDATE SET count = count + excluded.count",
				     -1, &ins, NULL) == SQLITE_OK;
	for (size_t i = 0; ok && i < n; i++)
		ok = add_row(ins, day, &rows[i]);
	sqlite3_finalize(ins);
	if (!ok)
		fail(st->db, "add");
	if (sqlite3_exec(st->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK && ok) {
		fail(st->db, "commit");
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		ok = false;
	}
	return ok;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

bool tlsrpt_store_rows(struct tlsrpt_store *st, const char *day, const char *domain, tlsrpt_row_cb cb, void *arg)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT domain, policy_type, policy_string, mx_host, result, receiving_mx, receiving_ip,"
			       " sending_ip, reason, count FROM session WHERE day = ?1 AND (?2 IS NULL OR domain = ?2)"
			       " ORDER BY domain, policy_type, policy_string, mx_host, result, receiving_mx,"
			       " receiving_ip, sending_ip, reason",
			       -1, &q, NULL) != SQLITE_OK) {
		fail(st->db, "rows");
		return false;
	}
	sqlite3_bind_text(q, 1, day, -1, SQLITE_STATIC);
	if (domain)
		sqlite3_bind_text(q, 2, domain, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct tlsrpt_row r = { col(q, 0), col(q, 1), col(q, 2), col(q, 3), col(q, 4), col(q, 5), col(q, 6),
					col(q, 7), col(q, 8), (unsigned long long)sqlite3_column_int64(q, 9) };
		cb(arg, &r);
	}
	if (rc != SQLITE_DONE)
		fail(st->db, "rows");
	sqlite3_finalize(q);
	return rc == SQLITE_DONE;
}

char **tlsrpt_store_unsent(struct tlsrpt_store *st, const char *day, size_t *n)
{
	sqlite3_stmt *q = NULL;
	char **names = NULL;
	size_t cap = 0;
	*n = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT DISTINCT domain FROM session WHERE day = ?1 AND domain NOT IN"
			       " (SELECT domain FROM sent WHERE day = ?1) ORDER BY domain",
			       -1, &q, NULL) != SQLITE_OK) {
		fail(st->db, "unsent");
		return NULL;
	}
	sqlite3_bind_text(q, 1, day, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[(*n)++] = xstrdup(col(q, 0));
	}
	sqlite3_finalize(q);
	return names;
}

static bool exec_bound(struct tlsrpt_store *st, const char *sql, const char *op, const char *a, const char *b,
		       const char *c)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		fail(st->db, op);
		return false;
	}
	const char *v[] = { a, b, c };
	for (int i = 0; i < 3 && v[i]; i++)
		sqlite3_bind_text(q, i + 1, v[i], -1, SQLITE_STATIC);
	bool ok = sqlite3_step(q) == SQLITE_DONE;
	if (!ok)
		fail(st->db, op);
	sqlite3_finalize(q);
	return ok;
}

bool tlsrpt_store_mark_sent(struct tlsrpt_store *st, const char *day, const char *domain, const char *report_id)
{
	return exec_bound(st, "INSERT OR REPLACE INTO sent (day, domain, report_id) VALUES (?1, ?2, ?3)", "mark_sent",
			  day, domain, report_id);
}

bool tlsrpt_store_prune(struct tlsrpt_store *st, const char *day)
{
	return exec_bound(st, "DELETE FROM session WHERE day < ?1", "prune", day, NULL, NULL) &&
	       exec_bound(st, "DELETE FROM sent WHERE day < ?1", "prune", day, NULL, NULL);
}
