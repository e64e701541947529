/*
 * See mtasts_cache.h. Runs in the queue process's worker threads.
 */
#include "state/mtasts_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "state/sqlite_db.h"
#include "util/alloc.h"
#include "util/log.h"

struct mtasts_cache {
	sqlite3 *db;
};

/* The cache is only a cache: losing the last writes in a crash means one
 * more fetch, so no fsync per write. */
static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS policy ("
	"  domain TEXT PRIMARY KEY, id TEXT NOT NULL, text BLOB NOT NULL,"
	"  fetched INTEGER NOT NULL, expires INTEGER NOT NULL);";

static void fail(sqlite3 *db, const char *op)
{
	sqlite_db_fail("mta_sts_cache_error", db, op);
}

struct mtasts_cache *mtasts_cache_open(const char *path)
{
	sqlite3 *db = sqlite_db_open_logged("mta_sts_cache_error", "open", path,
					   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, 1000, schema);
	if (!db)
		return NULL;
	struct mtasts_cache *mc = xcalloc(1, sizeof(*mc));
	mc->db = db;
	return mc;
}

void mtasts_cache_close(struct mtasts_cache *mc)
{
	if (!mc)
		return;
	sqlite3_close(mc->db);
	free(mc);
}

static bool read_row(sqlite3_stmt *st, struct mtasts_cached *out)
{
	const unsigned char *id = sqlite3_column_text(st, 0);
	const void *text = sqlite3_column_blob(st, 1);
	int len = sqlite3_column_bytes(st, 1);
	if (!id || len < 0)
		return false;
	snprintf(out->id, sizeof(out->id), "%s", (const char *)id);
	out->text = xmalloc((size_t)len + 1);
	if (len > 0)
		memcpy(out->text, text, (size_t)len);
	out->text[len] = '\0';
	out->len = (size_t)len;
	out->fetched = (time_t)sqlite3_column_int64(st, 2);
	out->expires = (time_t)sqlite3_column_int64(st, 3);
	return true;
}

bool mtasts_cache_get(struct mtasts_cache *mc, const char *domain, struct mtasts_cached *out)
{
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (sqlite3_prepare_v2(mc->db, "SELECT id, text, fetched, expires FROM policy WHERE domain = ?1", -1, &st,
			       NULL) != SQLITE_OK) {
		fail(mc->db, "get");
		return false;
	}
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		found = read_row(st, out);
	else if (rc != SQLITE_DONE)
		fail(mc->db, "get");
	sqlite3_finalize(st);
	return found;
}

bool mtasts_cache_put(struct mtasts_cache *mc, const char *domain, const char *id, const char *text, size_t len,
		      time_t fetched, time_t expires)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(mc->db, "INSERT OR REPLACE INTO policy (domain, id, text, fetched, expires) "
				       "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) != SQLITE_OK) {
		fail(mc->db, "put");
		return false;
	}
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, text, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)fetched);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)expires);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	if (!ok)
		fail(mc->db, "put");
	sqlite3_finalize(st);
	return ok;
}
