/*
 * Opening the gateway's SQLite databases (greylist, known partners,
 * quarantine index, MTA-STS cache, TLS-RPT store, Bayes): one way to
 * open, wait for a lock and create the tables, so every store fails the
 * same way and says why.
 */
#ifndef MW_STATE_SQLITE_DB_H
#define MW_STATE_SQLITE_DB_H

#include <stddef.h>

#include <sqlite3.h>

/* Open path with flags (SQLITE_OPEN_* : read-write and create, or read
 * only, and a mutex mode), wait up to busy_ms for another process's lock,
 * and run schema (CREATE ... IF NOT EXISTS and PRAGMAs; NULL: none). NULL
 * on failure, with "path: SQLite's reason" in why. */
sqlite3 *sqlite_db_open(const char *path, int flags, int busy_ms, const char *schema, char *why, size_t whylen);

/* The same, logging a failure as event (e.g. "greylist_error") with op
 * and the reason. */
sqlite3 *sqlite_db_open_logged(const char *event, const char *op, const char *path, int flags, int busy_ms,
			       const char *schema);

/* Log a failed operation op of the store's event (e.g. "greylist_error")
 * with SQLite's reason for db (NULL: out of memory). */
void sqlite_db_fail(const char *event, sqlite3 *db, const char *op);

#endif
