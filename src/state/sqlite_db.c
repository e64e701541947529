/*
 * See sqlite_db.h.
 */
#include "state/sqlite_db.h"

#include <stdio.h>

#include "util/log.h"

sqlite3 *sqlite_db_open(const char *path, int flags, int busy_ms, const char *schema, char *why, size_t whylen)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK || sqlite3_busy_timeout(db, busy_ms) != SQLITE_OK ||
	    (schema && sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)) {
		snprintf(why, whylen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

sqlite3 *sqlite_db_open_logged(const char *event, const char *op, const char *path, int flags, int busy_ms,
			       const char *schema)
{
	char why[512];
	sqlite3 *db = sqlite_db_open(path, flags, busy_ms, schema, why, sizeof(why));
	if (!db)
		log_event(LOG_ERR, event, "op", op, "msg", why, NULL);
	return db;
}

void sqlite_db_fail(const char *event, sqlite3 *db, const char *op)
{
	log_event(LOG_ERR, event, "op", op, "msg", db ? sqlite3_errmsg(db) : "out of memory", NULL);
}
