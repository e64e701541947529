/*
 * See greylist.h. Runs in smtpd.
 */
#include "state/greylist.h"

#include <stdlib.h>

#include <sqlite3.h>

#include "state/sqlite_db.h"
#include "util/alloc.h"
#include "util/log.h"

struct greylist {
	sqlite3 *db;
	sqlite3_stmt *get, *put, *pass;
};

static const char schema[] =
	"PRAGMA journal_mode=MEMORY;"
	"PRAGMA synchronous=OFF;"
	"PRAGMA temp_store=MEMORY;"
	"CREATE TABLE IF NOT EXISTS triplet ("
	"  key TEXT PRIMARY KEY, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	"  passed INTEGER NOT NULL DEFAULT 0);";

static void fail(struct greylist *g, const char *op)
{
	sqlite_db_fail("greylist_error", g ? g->db : NULL, op);
}

struct greylist *greylist_open(const char *path)
{
	sqlite3 *db = sqlite_db_open_logged("greylist_error", "open", path,
					   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, 200, schema);
	if (!db)
		return NULL;
	struct greylist *g = xcalloc(1, sizeof(*g));
	g->db = db;
	if (sqlite3_prepare_v2(g->db, "SELECT first, last, passed FROM triplet WHERE key = ?1", -1, &g->get,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(g->db, "INSERT OR REPLACE INTO triplet (key, first, last, passed) "
				      "VALUES (?1, ?2, ?2, 0)", -1, &g->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(g->db, "UPDATE triplet SET last = ?2, passed = 1 WHERE key = ?1", -1,
			       &g->pass, NULL) != SQLITE_OK) {
		fail(g, "open");
		greylist_close(g);
		return NULL;
	}
	return g;
}

void greylist_close(struct greylist *g)
{
	if (!g)
		return;
	sqlite3_finalize(g->get);
	sqlite3_finalize(g->put);
	sqlite3_finalize(g->pass);
	sqlite3_close(g->db);
	free(g);
}

static bool run(struct greylist *g, sqlite3_stmt *st, const char *key, time_t now)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE;
}

enum greylist_result greylist_check(struct greylist *g, const char *key, time_t now,
				    unsigned delay, unsigned expiry)
{
	if (!g)
		return GREYLIST_ERROR;
	sqlite3_reset(g->get);
	sqlite3_bind_text(g->get, 1, key, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(g->get);
	bool found = rc == SQLITE_ROW;
	sqlite3_int64 first = found ? sqlite3_column_int64(g->get, 0) : 0;
	sqlite3_int64 last = found ? sqlite3_column_int64(g->get, 1) : 0;
	bool passed = found && sqlite3_column_int64(g->get, 2) != 0;
	sqlite3_reset(g->get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail(g, "select");
		return GREYLIST_ERROR;
	}
	if (!found || now - last > (sqlite3_int64)expiry) {
		if (!run(g, g->put, key, now)) {
			fail(g, "insert");
			return GREYLIST_ERROR;
		}
		return GREYLIST_DEFER;
	}
	if (!passed && now - first < (sqlite3_int64)delay)
		return GREYLIST_DEFER;
	if (!run(g, g->pass, key, now)) {
		fail(g, "update");
		return GREYLIST_ERROR;
	}
	return GREYLIST_PASS;
}
