/*
 * See partners.h. Runs in the queue (learning, expiry) and in
 * `mailwarden partners` (list, add, remove, import, export).
 */
#include "state/partners.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "state/sqlite_db.h"
#include "util/alloc.h"
#include "util/log.h"

/* RFC 5321 section 4.5.3.1.3: a path is at most 256 octets. */
#define PARTNER_ADDRESS_MAX 256

struct partners {
	sqlite3 *db;
	sqlite3_stmt *upsert, *del, *expire, *each, *since, *generation, *bump;
};

/* A rollback journal, not WAL: the smtpd processes read the file through
 * the descriptor they opened before their chroot, and a WAL reader would
 * have to open the -wal and -shm files by name. */
static const char schema[] =
	"PRAGMA journal_mode=DELETE;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', 0);"
	"CREATE TABLE IF NOT EXISTS partner ("
	"  internal TEXT NOT NULL, external TEXT NOT NULL, domain TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,"
	"  PRIMARY KEY (internal, external)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS partner_last_seen ON partner (last_seen);";

static const char upsert_sql[] =
	"INSERT INTO partner (internal, external, domain, first_seen, last_seen, count) "
	"VALUES (?1, ?2, ?3, ?4, ?4, 1) "
	"ON CONFLICT (internal, external) DO UPDATE SET "
	"last_seen = max(last_seen, excluded.last_seen), count = count + 1";

static void fail(struct partners *p, const char *op)
{
	sqlite_db_fail("partners_error", p ? p->db : NULL, op);
}

static bool prepare(struct partners *p, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(p->db, sql, -1, st, NULL) == SQLITE_OK;
}

#define ROW_COLUMNS "SELECT internal, external, domain, first_seen, last_seen, count FROM partner "

static bool prepare_reads(struct partners *p)
{
	return prepare(p, ROW_COLUMNS "ORDER BY internal, external", &p->each) &&
	       prepare(p, ROW_COLUMNS "WHERE last_seen >= ?1", &p->since) &&
	       prepare(p, "SELECT value FROM meta WHERE key = 'generation'", &p->generation);
}

static bool prepare_writes(struct partners *p)
{
	return prepare(p, upsert_sql, &p->upsert) &&
	       prepare(p, "DELETE FROM partner WHERE internal = ?1 AND external = ?2", &p->del) &&
	       prepare(p, "DELETE FROM partner WHERE last_seen < ?1", &p->expire) &&
	       prepare(p, "UPDATE meta SET value = value + 1 WHERE key = 'generation'", &p->bump);
}

static struct partners *open_as(const char *path, bool writer)
{
	int flags = writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
	sqlite3 *db = sqlite_db_open_logged("partners_error", writer ? "open" : "open_reader", path,
					   flags | SQLITE_OPEN_FULLMUTEX, 2000, writer ? schema : NULL);
	if (!db)
		return NULL;
	struct partners *p = xcalloc(1, sizeof(*p));
	p->db = db;
	if (writer && (!prepare_reads(p) || !prepare_writes(p))) {
		fail(p, writer ? "open" : "open_reader");
		partners_close(p);
		return NULL;
	}
	return p;
}

struct partners *partners_open(const char *path)
{
	return open_as(path, true);
}

struct partners *partners_open_reader(const char *path)
{
	return open_as(path, false);
}

void partners_close(struct partners *p)
{
	if (!p)
		return;
	sqlite3_finalize(p->upsert);
	sqlite3_finalize(p->del);
	sqlite3_finalize(p->expire);
	sqlite3_finalize(p->each);
	sqlite3_finalize(p->since);
	sqlite3_finalize(p->generation);
	sqlite3_finalize(p->bump);
	sqlite3_close(p->db);
	free(p);
}

const char *partners_domain(const char *address)
{
	const char *at = address ? strrchr(address, '@') : NULL;
	return at && at[1] ? at + 1 : NULL;
}

/* out := address lowered; false when it is no address we keep. */
static bool lowered(const char *address, char out[PARTNER_ADDRESS_MAX + 1])
{
	size_t n = address ? strlen(address) : 0;
	if (n == 0 || n > PARTNER_ADDRESS_MAX || !partners_domain(address) || address[0] == '@')
		return false;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)address[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32u : c);
	}
	return true;
}

static bool learn_one(struct partners *p, const struct partner_pair *pair, time_t now)
{
	char in[PARTNER_ADDRESS_MAX + 1], ex[PARTNER_ADDRESS_MAX + 1];
	if (!lowered(pair->internal, in) || !lowered(pair->external, ex))
		return true; /* skipped, not an error */
	sqlite3_reset(p->upsert);
	sqlite3_bind_text(p->upsert, 1, in, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(p->upsert, 2, ex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(p->upsert, 3, partners_domain(ex), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(p->upsert, 4, (sqlite3_int64)now);
	int rc = sqlite3_step(p->upsert);
	sqlite3_reset(p->upsert);
	return rc == SQLITE_DONE;
}

bool partners_learn(struct partners *p, const struct partner_pair *pairs, size_t n, time_t now)
{
	if (!p || sqlite3_exec(p->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		fail(p, "begin");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!learn_one(p, &pairs[i], now)) {
			fail(p, "learn");
			sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
	}
	if (sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(p, "commit");
		sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
		return false;
	}
	return true;
}

/* A reader's statements are made at first use: the file may still be
 * empty when smtpd opens it (the master makes it; the queue gives it its
 * tables). */
static bool reads_ready(struct partners *p)
{
	if (p->each)
		return true;
	if (prepare_reads(p))
		return true;
	sqlite3_finalize(p->each);
	sqlite3_finalize(p->since);
	sqlite3_finalize(p->generation);
	p->each = p->since = p->generation = NULL;
	return false;
}

/* Something was removed: readers rebuild their caches (partners.h). */
static bool bump(struct partners *p)
{
	sqlite3_reset(p->bump);
	int rc = sqlite3_step(p->bump);
	sqlite3_reset(p->bump);
	if (rc != SQLITE_DONE)
		fail(p, "generation");
	return rc == SQLITE_DONE;
}

int partners_remove(struct partners *p, const char *internal, const char *external)
{
	char in[PARTNER_ADDRESS_MAX + 1], ex[PARTNER_ADDRESS_MAX + 1];
	if (!p || !lowered(internal, in) || !lowered(external, ex))
		return 0;
	sqlite3_reset(p->del);
	sqlite3_bind_text(p->del, 1, in, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(p->del, 2, ex, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(p->del);
	sqlite3_reset(p->del);
	if (rc != SQLITE_DONE) {
		fail(p, "remove");
		return -1;
	}
	int removed = sqlite3_changes(p->db);
	if (removed > 0 && !bump(p))
		return -1;
	return removed > 0 ? 1 : 0;
}

long long partners_expire(struct partners *p, time_t now, long long max_age)
{
	if (!p)
		return -1;
	sqlite3_reset(p->expire);
	sqlite3_bind_int64(p->expire, 1, (sqlite3_int64)now - max_age);
	int rc = sqlite3_step(p->expire);
	sqlite3_reset(p->expire);
	if (rc != SQLITE_DONE) {
		fail(p, "expire");
		return -1;
	}
	long long removed = sqlite3_changes(p->db);
	if (removed > 0 && !bump(p))
		return -1;
	return removed;
}

static void read_row(sqlite3_stmt *st, struct partner_row *row)
{
	row->internal = (const char *)sqlite3_column_text(st, 0);
	row->external = (const char *)sqlite3_column_text(st, 1);
	row->domain = (const char *)sqlite3_column_text(st, 2);
	row->first_seen = (time_t)sqlite3_column_int64(st, 3);
	row->last_seen = (time_t)sqlite3_column_int64(st, 4);
	row->count = sqlite3_column_int64(st, 5);
}

static bool each_row(struct partners *p, sqlite3_stmt *st, bool (*fn)(const struct partner_row *row, void *arg),
		     void *arg)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct partner_row row;
		read_row(st, &row);
		if (!fn(&row, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fail(p, "each");
		return false;
	}
	return true;
}

bool partners_each(struct partners *p, bool (*fn)(const struct partner_row *row, void *arg), void *arg)
{
	if (!p || !reads_ready(p))
		return false;
	sqlite3_reset(p->each);
	return each_row(p, p->each, fn, arg);
}

bool partners_each_since(struct partners *p, time_t since, bool (*fn)(const struct partner_row *row, void *arg),
			 void *arg)
{
	if (!p || !reads_ready(p))
		return false;
	sqlite3_reset(p->since);
	sqlite3_bind_int64(p->since, 1, (sqlite3_int64)since);
	return each_row(p, p->since, fn, arg);
}

long long partners_generation(struct partners *p)
{
	if (!p)
		return -1;
	if (!reads_ready(p)) {
		fail(p, "generation");
		return -1;
	}
	sqlite3_reset(p->generation);
	int rc = sqlite3_step(p->generation);
	long long g = rc == SQLITE_ROW ? sqlite3_column_int64(p->generation, 0) : -1;
	sqlite3_reset(p->generation);
	if (g < 0)
		fail(p, "generation");
	return g;
}
