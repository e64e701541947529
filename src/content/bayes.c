/*
 * See bayes.h. The store: SQLite tables
 *   tokens(h INTEGER PRIMARY KEY, spam INTEGER, ham INTEGER)
 *   seen(id TEXT PRIMARY KEY, spam INTEGER)        -- learnt messages
 * and the counts of learnt messages are those of seen.
 *
 * Classifying (Robinson, "A statistical approach to the spam problem",
 * 2003; Fisher's method as bogofilter and SpamAssassin use it):
 *   p(w)  = (spam_w / nspam) / (spam_w / nspam + ham_w / nham)
 *   f(w)  = (S * X + n * p(w)) / (S + n),  n = spam_w + ham_w
 *   with S = 0.16 and X = 0.5 (SpamAssassin's robinson_s and _x),
 * the 150 tokens with |f - 0.5| >= 0.1 that are most telling, then
 *   H = C^-1(-2 ln prod f, 2N), S = C^-1(-2 ln prod (1-f), 2N),
 *   probability = (1 + H - S) / 2.
 */
#include "content/bayes.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "state/sqlite_db.h"
#include "util/alloc.h"
#include "util/fnv.h"

#define ROBINSON_S 0.16
#define ROBINSON_X 0.5
#define MIN_DEVIATION 0.1
#define TOKENS_USED 150
#define WORD_MIN 3
#define WORD_MAX 20

/* --- tokens ------------------------------------------------------------------ */

static uint64_t fnv1a(const char *prefix, const char *s, size_t n)
{
	return fnv64_mix_lower(fnv64_mix(FNV64_OFFSET, prefix, strlen(prefix)), s, n);
}

static void add_token(struct bayes_tokens *t, uint64_t h)
{
	if (t->n >= BAYES_TOKENS_MAX)
		return;
	for (size_t i = 0; i < t->n; i++)  /* distinct; at most 3 000: bounded */
		if (t->h[i] == h)
			return;
	t->h = xreallocarray(t->h, t->n + 1, sizeof(*t->h));
	t->h[t->n++] = h;
}

static bool word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || c == '\'' || c == '-' || c == '$';
}

/* Words of WORD_MIN..WORD_MAX bytes; longer runs give one "skip" token
 * per length class (as SpamAssassin does), so long garbage still counts. */
static void add_words(struct bayes_tokens *t, const char *prefix, const char *s, size_t len)
{
	for (size_t i = 0; i < len && t->n < BAYES_TOKENS_MAX;) {
		while (i < len && !word_byte((unsigned char)s[i]))
			i++;
		size_t start = i;
		while (i < len && word_byte((unsigned char)s[i]))
			i++;
		size_t n = i - start;
		if (n >= WORD_MIN && n <= WORD_MAX)
			add_token(t, fnv1a(prefix, s + start, n));
		else if (n > WORD_MAX) {
			char skip[32];
			snprintf(skip, sizeof(skip), "sk:%c %zu", s[start], n / 10 * 10);
			add_token(t, fnv1a(prefix, skip, strlen(skip)));
		}
	}
}

void bayes_tokenize(const char *const *text, const size_t *len, size_t n_text, const char *subject,
		    const char *const *hosts, size_t n_hosts, struct bayes_tokens *out)
{
	if (subject)
		add_words(out, "S:", subject, strlen(subject));
	for (size_t i = 0; i < n_hosts; i++)
		add_token(out, fnv1a("U:", hosts[i], strlen(hosts[i])));
	for (size_t i = 0; i < n_text; i++)
		add_words(out, "", text[i], len[i]);
}

void bayes_tokenize_header(const char *name, const char *value, struct bayes_tokens *t)
{
	char prefix[40];
	snprintf(prefix, sizeof(prefix), "H%.32s:", name);
	add_words(t, prefix, value, strlen(value));
}

void bayes_tokens_free(struct bayes_tokens *t)
{
	free(t->h);
	memset(t, 0, sizeof(*t));
}

/* --- the store -------------------------------------------------------------------- */

struct bayes_db {
	sqlite3 *db;
};

static const char schema[] = "PRAGMA journal_mode=WAL;"
			     "CREATE TABLE IF NOT EXISTS tokens(h INTEGER PRIMARY KEY, spam INTEGER NOT NULL, "
			     "ham INTEGER NOT NULL);"
			     "CREATE TABLE IF NOT EXISTS seen(id TEXT PRIMARY KEY, spam INTEGER NOT NULL);";

struct bayes_db *bayes_db_open(const char *path, char *why, size_t whylen)
{
	sqlite3 *db = sqlite_db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000, schema, why, whylen);
	if (!db)
		return NULL;
	struct bayes_db *b = xcalloc(1, sizeof(*b));
	b->db = db;
	return b;
}

void bayes_db_close(struct bayes_db *db)
{
	if (db) {
		sqlite3_close(db->db);
		free(db);
	}
}

/* Add delta (+1/-1) to the class's count of every token. */
static bool count_tokens(sqlite3 *db, const struct bayes_tokens *t, bool spam, int delta)
{
	const char *sql = spam ? "INSERT INTO tokens(h, spam, ham) VALUES(?1, max(?2, 0), 0) "
				 "ON CONFLICT(h) DO UPDATE SET spam = max(spam + ?2, 0)"
			       : "INSERT INTO tokens(h, spam, ham) VALUES(?1, 0, max(?2, 0)) "
				 "ON CONFLICT(h) DO UPDATE SET ham = max(ham + ?2, 0)";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	bool ok = true;
	for (size_t i = 0; ok && i < t->n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)t->h[i]);
		sqlite3_bind_int(st, 2, delta);
		ok = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return ok && sqlite3_exec(db, "DELETE FROM tokens WHERE spam = 0 AND ham = 0", NULL, NULL, NULL) == SQLITE_OK;
}

/* How the message was learnt: 1 spam, 0 ham, -1 not at all. */
static int seen_as(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st;
	int as = -1;
	if (sqlite3_prepare_v2(db, "SELECT spam FROM seen WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		as = sqlite3_column_int(st, 0) ? 1 : 0;
	sqlite3_finalize(st);
	return as;
}

static bool mark_seen(sqlite3 *db, const char *id, int as)
{
	sqlite3_stmt *st;
	const char *sql = as < 0 ? "DELETE FROM seen WHERE id = ?1" : "INSERT OR REPLACE INTO seen(id, spam) VALUES(?1, ?2)";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (as >= 0)
		sqlite3_bind_int(st, 2, as);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok;
}

bool bayes_learn(struct bayes_db *db, const char *id, const struct bayes_tokens *t, bool spam, bool forget,
		 bool *changed)
{
	*changed = false;
	if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return false;
	int was = seen_as(db->db, id);
	int want = forget ? -1 : spam ? 1 : 0;
	bool ok = true;
	if (was != want) {
		if (was >= 0)
			ok = count_tokens(db->db, t, was == 1, -1);
		if (ok && want >= 0)
			ok = count_tokens(db->db, t, want == 1, +1);
		ok = ok && mark_seen(db->db, id, want);
		*changed = ok;
	}
	return sqlite3_exec(db->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK && ok;
}

static bool count_seen(sqlite3 *db, unsigned long *spam, unsigned long *ham)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(spam), 0), count(*) FROM seen", -1, &st, NULL) != SQLITE_OK)
		return false;
	bool ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		*spam = (unsigned long)sqlite3_column_int64(st, 0);
		*ham = (unsigned long)sqlite3_column_int64(st, 1) - *spam;
	}
	sqlite3_finalize(st);
	return ok;
}

bool bayes_db_counts(struct bayes_db *db, unsigned long *spam, unsigned long *ham)
{
	return count_seen(db->db, spam, ham);
}

/* --- the model ------------------------------------------------------------------ */

struct bayes_entry {
	uint64_t h;
	uint32_t spam, ham;
};

struct bayes_model {
	struct bayes_entry *e;   /* sorted by h */
	size_t n;
	unsigned long nspam, nham;
};

struct bayes_model *bayes_model_load(const char *path, char *why, size_t whylen)
{
	struct stat st;
	why[0] = '\0';
	if (stat(path, &st) < 0)
		return NULL;  /* never trained */
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	struct bayes_model *m = xcalloc(1, sizeof(*m));
	bool ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		  sqlite3_busy_timeout(db, 5000) == SQLITE_OK && count_seen(db, &m->nspam, &m->nham) &&
		  sqlite3_prepare_v2(db, "SELECT h, spam, ham FROM tokens ORDER BY h", -1, &q, NULL) == SQLITE_OK;
	size_t cap = 0;
	int rc = SQLITE_DONE;
	while (ok && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (m->n == cap) {
			cap = cap ? cap * 2 : 4096;
			m->e = xreallocarray(m->e, cap, sizeof(*m->e));
		}
		/* SQLite orders signed; the array is searched as signed too. */
		m->e[m->n++] = (struct bayes_entry){ (uint64_t)sqlite3_column_int64(q, 0),
						     (uint32_t)sqlite3_column_int(q, 1), (uint32_t)sqlite3_column_int(q, 2) };
	}
	if (!ok || rc != SQLITE_DONE) {
		snprintf(why, whylen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		bayes_model_free(m);
		m = NULL;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return m;
}

void bayes_model_free(struct bayes_model *m)
{
	if (m) {
		free(m->e);
		free(m);
	}
}

void bayes_model_counts(const struct bayes_model *m, unsigned long *spam, unsigned long *ham)
{
	*spam = m->nspam;
	*ham = m->nham;
}

static const struct bayes_entry *find(const struct bayes_model *m, uint64_t h)
{
	int64_t key = (int64_t)h;
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t v = (int64_t)m->e[mid].h;
		if (v == key)
			return &m->e[mid];
		if (v < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The upper tail of the chi-square distribution with 2*half degrees of
 * freedom at x (Robinson's closed form for even degrees). */
static double chi2q(double x, size_t half)
{
	double m = x / 2, sum = exp(-m), term = sum;
	for (size_t i = 1; i < half; i++) {
		term *= m / (double)i;
		sum += term;
	}
	return sum < 1 ? sum : 1;
}

static int by_deviation(const void *a, const void *b)
{
	double x = fabs(*(const double *)a - 0.5), y = fabs(*(const double *)b - 0.5);
	return x < y ? 1 : x > y ? -1 : 0;
}

double bayes_classify(const struct bayes_model *m, const struct bayes_tokens *t)
{
	if (!m->nspam || !m->nham)
		return 0.5;
	double *f = xreallocarray(NULL, t->n ? t->n : 1, sizeof(*f));
	size_t nf = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct bayes_entry *e = find(m, t->h[i]);
		if (!e)
			continue;
		double rs = (double)e->spam / (double)m->nspam, rh = (double)e->ham / (double)m->nham;
		if (rs + rh <= 0)
			continue;
		double p = rs / (rs + rh), n = (double)e->spam + (double)e->ham;
		double fw = (ROBINSON_S * ROBINSON_X + n * p) / (ROBINSON_S + n);
		if (fabs(fw - 0.5) >= MIN_DEVIATION)
			f[nf++] = fw;
	}
	qsort(f, nf, sizeof(*f), by_deviation);
	if (nf > TOKENS_USED)
		nf = TOKENS_USED;
	double ln_h = 0, ln_s = 0;
	for (size_t i = 0; i < nf; i++) {
		ln_h += log(f[i]);
		ln_s += log(1 - f[i]);
	}
	free(f);
	if (!nf)
		return 0.5;
	double h = chi2q(-2 * ln_h, nf), s = chi2q(-2 * ln_s, nf);
	return (1 + h - s) / 2;
}

const char *bayes_symbol(double p)
{
	static const struct { double below; const char *name; } ranges[] = {
		{ 0.01, "BAYES_00" }, { 0.05, "BAYES_05" }, { 0.20, "BAYES_20" }, { 0.40, "BAYES_40" },
		{ 0.60, "BAYES_50" }, { 0.80, "BAYES_60" }, { 0.95, "BAYES_80" }, { 0.99, "BAYES_95" },
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (p < ranges[i].below)
			return ranges[i].name;
	return p >= 0.999 ? "BAYES_999" : "BAYES_99";
}
