/*
 * See rules_fast.h. Building: the active regex rules are grouped (one
 * group per rule kind, header rules per field name and mode, one for
 * header ALL), each pattern is tried exactly, then (too large to take
 * exactly) by a prefix of it (rules_prefix.h), then as a prefilter, then
 * left to PCRE2; each group becomes one block-mode database, taken from
 * the cache when its patterns were compiled before (rules_fast_cache.h).
 */
#include "content/rules_fast.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/rules_fast_cache.h"
#include "content/rules_prefix.h"
#include "util/alloc.h"

/* How a pattern is in its database (the cache keeps the numbers). A
 * prefix and a prefilter hit are confirmed by PCRE2. */
enum fast_tier { TIER_PCRE, TIER_EXACT, TIER_PREFILTER, TIER_PREFIX };

struct rules_fast {
	struct fast_db *dbs;
	size_t n_dbs;
	bool *has;                 /* per rule index: matched through a database */
	struct fast_counts counts;
	hs_scratch_t *proto;       /* big enough for every database; cloned per concurrent match */
	pthread_mutex_t lock;
	hs_scratch_t **pool;
	size_t n_pool, cap_pool;
};

/* One group's patterns while it is built. */
struct group {
	struct fast_db d;
	char **expr;
	unsigned *flags;
	unsigned char *tier;
	bool *loose;               /* expr is a superset of the rule (rules_superset.c): a prefilter only */
	char **prefix;             /* NULL, or the prefix of expr that TIER_PREFIX compiles */
	unsigned *prefix_flags;    /* ... with these flags */
	bool supersets;            /* a group of supersets only */
	bool long_ones;            /* a group of patterns too long to take whole (by a prefix at best) */
	size_t cap;
};

/* Supersets go into databases of their own, LOOSE_PER_DB at most: in the
 * body database they made its compile 39 s instead of 10; Debian's 66
 * body ones (with exact UTF-8 byte sets) compiled in 13 s as one
 * database, 6 s in fifteens, 5 s in eights; each database is one more
 * scan per piece of text. */
#define LOOSE_PER_DB 16

/* --- grouping ------------------------------------------------------------------ */

static bool takes_part(const struct rule *r)
{
	if (!r->needed)
		return false;  /* never run (rules_meta.c) */
	switch (r->kind) {
	case RULE_BODY: case RULE_RAWBODY: case RULE_FULL: case RULE_URI:
		return r->re != NULL;
	case RULE_HEADER:
		return r->re != NULL && !r->exists;
	default:
		return false;
	}
}

/* Nor a very long one: ReplaceTags expands a rule such as FUZZY_CLICK_HERE
 * into kilobytes of alternatives per letter (every look-alike in UTF-8),
 * which made Debian's body database compile for minutes; PCRE2 JIT runs
 * the few of them fast enough, or a prefix of them prefilters. */
#define EXPRESSION_MAX 2048

/* Too long to take whole: a database of their own, so that their prefixes'
 * trial compiles (rules_prefix.h) never recompile a large database. */
static bool too_long(const struct rule *r)
{
	return !r->prefilter && strlen(r->pattern) > EXPRESSION_MAX;
}

static bool same_group(const struct rule_set *rs, const struct group *g, const struct rule *r)
{
	if (g->d.kind != r->kind || g->supersets != (r->prefilter != NULL) || g->long_ones != too_long(r))
		return false;
	if (g->supersets && g->d.n >= LOOSE_PER_DB)
		return false;
	if (r->kind != RULE_HEADER)
		return true;
	if (g->d.all_headers || strcmp(r->header, "ALL") == 0)
		return g->d.all_headers && strcmp(r->header, "ALL") == 0;
	const struct rule *like = &rs->rules[g->d.like];
	return like->mode == r->mode && strcmp(like->header, r->header) == 0;
}

/* PCRE2's options as Hyperscan flags; /x as Hyperscan's (?x) in the text.
 * A rule with a cheaper superset (ReplaceTags) gives that. */
static char *expression_of(const struct rule *r, unsigned *flags)
{
	const char *pattern = r->prefilter ? r->prefilter : r->pattern;
	*flags = HS_FLAG_SINGLEMATCH;  /* whether it matches: a count is PCRE2's (rules_fast.h) */
	if (r->re_options & PCRE2_CASELESS)
		*flags |= HS_FLAG_CASELESS;
	if (r->re_options & PCRE2_MULTILINE)
		*flags |= HS_FLAG_MULTILINE;
	if (r->re_options & PCRE2_DOTALL)
		*flags |= HS_FLAG_DOTALL;
	if (!(r->re_options & PCRE2_EXTENDED))
		return xstrdup(pattern);
	size_t len = strlen(pattern);
	char *e = xmalloc(len + 5);
	memcpy(e, "(?x)", 4);
	memcpy(e + 4, pattern, len + 1);
	return e;
}

static void group_add(struct group *g, const struct rule *r, size_t i)
{
	if (g->d.n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->d.rule = xreallocarray(g->d.rule, g->cap, sizeof(*g->d.rule));
		g->d.confirm = xreallocarray(g->d.confirm, g->cap, sizeof(*g->d.confirm));
		g->expr = xreallocarray(g->expr, g->cap, sizeof(*g->expr));
		g->flags = xreallocarray(g->flags, g->cap, sizeof(*g->flags));
		g->tier = xreallocarray(g->tier, g->cap, sizeof(*g->tier));
		g->loose = xreallocarray(g->loose, g->cap, sizeof(*g->loose));
		g->prefix = xreallocarray(g->prefix, g->cap, sizeof(*g->prefix));
		g->prefix_flags = xreallocarray(g->prefix_flags, g->cap, sizeof(*g->prefix_flags));
	}
	size_t k = g->d.n++;
	g->d.rule[k] = i;
	g->expr[k] = expression_of(r, &g->flags[k]);
	g->tier[k] = TIER_PCRE;
	g->loose[k] = r->prefilter != NULL;
	g->prefix[k] = NULL;
	/* A rule that counts is counted by PCRE2 (a negated header test only
	 * asks whether it matches at all). */
	g->d.confirm[k] = r->multiple && !r->negate;
}

static struct group *groups_of(const struct rule_set *rs, size_t *n_groups)
{
	struct group *g = NULL;
	size_t n = 0;
	for (size_t k = 0; k < rs->n_active; k++) {
		size_t i = rs->order[k];
		const struct rule *r = &rs->rules[i];
		if (!takes_part(r))
			continue;
		size_t j = 0;
		while (j < n && !same_group(rs, &g[j], r))
			j++;
		if (j == n) {
			g = xreallocarray(g, n + 1, sizeof(*g));
			memset(&g[n], 0, sizeof(*g));
			g[n].d.kind = r->kind;
			g[n].d.like = i;
			g[n].d.all_headers = r->kind == RULE_HEADER && strcmp(r->header, "ALL") == 0;
			g[n].supersets = r->prefilter != NULL;
			g[n].long_ones = too_long(r);
			n++;
		}
		group_add(&g[j], r, i);
	}
	*n_groups = n;
	return g;
}

static void group_free(struct group *g)
{
	for (size_t k = 0; k < g->d.n; k++) {
		free(g->expr[k]);
		free(g->prefix[k]);
	}
	free(g->expr);
	free(g->prefix);
	free(g->prefix_flags);
	free(g->flags);
	free(g->tier);
	free(g->loose);
}

/* --- compiling ------------------------------------------------------------------ */

/* Can Hyperscan take the expression with these flags, never matching the
 * empty string (PCRE2 would report that match; Hyperscan does not)? Not
 * one whose bounded repeats allow a match longer than WIDTH_MAX: Debian's
 * __SPOOFED_URL (72_active.cf, nested {0,1024}s, up to 207 117 bytes)
 * took 44 s of its database's compile alone; PCRE2 runs it on the few
 * parts there are. */
#define WIDTH_MAX 65536
static bool hs_takes_upto(const char *expr, unsigned flags, size_t max_len)
{
	if (strlen(expr) > max_len)
		return false;
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *err = NULL;
	bool ok = hs_expression_info(expr, flags, &info, &err) == HS_SUCCESS && info && info->min_width > 0 &&
		  (info->max_width <= WIDTH_MAX || info->max_width == UINT_MAX);
	free(info);
	hs_free_compile_error(err);
	return ok;
}

/* A prefix is longer than an expression taken whole may be: Debian's
 * __FILL_THIS_FORM_SHORT2 is a group taken three times; three copies of
 * it without its last item, 7.9 kB, compile in 3.7 s and let 7 % of body
 * paragraphs through (one copy: a tenth of a second, 34 %). */
#define PREFIX_MAX 8192

/* Does Hyperscan compile expr alone with the rule's flags? Exactly if it
 * takes its constructs, else in its prefilter mode (t->flags say which): that
 * takes the atomic group that opens Debian's __FILL_THIS_FORM_PARTIAL_RAW,
 * but relaxes a large prefix until nearly every piece passes (SHORT1's:
 * 52 %, exactly 0.2 %), so it is not the first choice. Only hs_compile
 * tells "Pattern is too large"; failing, it may take seconds, so it is
 * tried for few prefixes of few rules (rules_prefix.h). */
struct prefix_trial {
	unsigned rule_flags;  /* the rule's */
	unsigned flags;       /* the last trial's */
};

static bool compiles_alone(const char *expr, void *arg)
{
	struct prefix_trial *t = arg;
	t->flags = t->rule_flags;
	if (!hs_takes_upto(expr, t->flags, PREFIX_MAX))
		t->flags |= HS_FLAG_PREFILTER;
	hs_database_t *db = NULL;
	hs_compile_error_t *err = NULL;
	bool ok = hs_takes_upto(expr, t->flags, PREFIX_MAX) &&
		  hs_compile(expr, t->flags, HS_MODE_BLOCK, NULL, &db, &err) == HS_SUCCESS;
	hs_free_database(db);
	hs_free_compile_error(err);
	return ok;
}

/* A prefix of pattern k (of a superset too: a superset in turn), made
 * once; false if it has none. */
static bool has_prefix(struct group *g, size_t k)
{
	if (!g->prefix[k]) {
		struct prefix_trial t = { g->flags[k], g->flags[k] };
		g->prefix[k] = rules_prefix_superset(g->expr[k], PREFIX_MAX, compiles_alone, &t);
		g->prefix_flags[k] = t.flags;  /* the last trial's: the one taken */
	}
	return g->prefix[k] != NULL;
}

static bool hs_takes(const char *expr, unsigned flags)
{
	return hs_takes_upto(expr, flags, EXPRESSION_MAX);
}

/* A superset (loose) is never exact: at best a prefilter. A pattern too
 * long to try exactly is tried by a prefix: more selective than
 * Hyperscan's prefilter mode of the whole. */
static enum fast_tier tier_of(struct group *g, size_t k)
{
	if (!g->loose[k] && hs_takes(g->expr[k], g->flags[k]))
		return TIER_EXACT;
	if (strlen(g->expr[k]) > EXPRESSION_MAX && has_prefix(g, k))
		return TIER_PREFIX;
	return hs_takes(g->expr[k], g->flags[k] | HS_FLAG_PREFILTER) ? TIER_PREFILTER : TIER_PCRE;
}

/* The next tier down for pattern k, which the group's compile refused:
 * exact ("Pattern is too large") by a prefix if it has one. */
static enum fast_tier demoted(struct group *g, size_t k)
{
	switch (g->tier[k]) {
	case TIER_EXACT:
		return has_prefix(g, k) ? TIER_PREFIX : TIER_PREFILTER;
	case TIER_PREFIX:
		return TIER_PREFILTER;
	default:
		return TIER_PCRE;
	}
}

static void classify(struct group *g)
{
	for (size_t k = 0; k < g->d.n; k++)
		g->tier[k] = tier_of(g, k);
}

/* The group's database of its tiered patterns; a pattern the whole
 * compile rejects (a resource limit hs_expression_info does not see)
 * moves down a tier and the rest are compiled again. NULL: none left. */
static hs_database_t *compile_group(struct group *g)
{
	const char **expr = xreallocarray(NULL, g->d.n, sizeof(*expr));
	unsigned *flags = xreallocarray(NULL, g->d.n, sizeof(*flags));
	unsigned *ids = xreallocarray(NULL, g->d.n, sizeof(*ids));
	hs_database_t *db = NULL;
	for (;;) {
		unsigned m = 0;
		for (size_t k = 0; k < g->d.n; k++)
			if (g->tier[k] != TIER_PCRE) {
				bool prefix = g->tier[k] == TIER_PREFIX;
				expr[m] = prefix ? g->prefix[k] : g->expr[k];
				flags[m] = prefix ? g->prefix_flags[k]
						  : g->flags[k] | (g->tier[k] == TIER_PREFILTER ? HS_FLAG_PREFILTER : 0);
				ids[m++] = (unsigned)k;
			}
		if (m == 0)
			break;
		hs_compile_error_t *err = NULL;
		if (hs_compile_multi(expr, flags, ids, m, HS_MODE_BLOCK, NULL, &db, &err) == HS_SUCCESS)
			break;
		db = NULL;
		int bad = err ? err->expression : -1;
		hs_free_compile_error(err);
		if (bad < 0 || (unsigned)bad >= m) {  /* not one pattern's fault: the group runs in PCRE2 */
			memset(g->tier, TIER_PCRE, g->d.n);
			break;
		}
		g->tier[ids[bad]] = demoted(g, ids[bad]);
	}
	free(expr);
	free(flags);
	free(ids);
	return db;
}

/* The group's database from the cache, or compiled (and cached under key). */
static hs_database_t *group_database(struct group *g, const char *cache_dir, bool compile,
				     char key[FAST_CACHE_KEY_HEX], bool *cached)
{
	rules_fast_cache_key((const char *const *)g->expr, g->flags, g->d.n, key);
	hs_database_t *db = cache_dir ? rules_fast_cache_load(cache_dir, key, g->tier, g->d.n) : NULL;
	for (size_t k = 0; db && k < g->d.n; k++)
		if (g->tier[k] > TIER_PREFIX || (g->loose[k] && g->tier[k] == TIER_EXACT)) {  /* not a file we wrote */
			hs_free_database(db);
			db = NULL;
		}
	*cached = db != NULL;
	if (db || !compile)
		return db;  /* not compiling: a group not in the cache runs in PCRE2 */
	classify(g);
	db = compile_group(g);
	if (db && cache_dir)
		rules_fast_cache_save(cache_dir, key, db, g->tier, g->d.n);
	return db;
}

/* g's database into f (or its rules to PCRE2), g's patterns counted. */
static void group_done(struct rules_fast *f, struct group *g, hs_database_t *db)
{
	for (size_t k = 0; k < g->d.n; k++) {
		enum fast_tier t = db ? g->tier[k] : TIER_PCRE;
		f->counts.exact += t == TIER_EXACT;
		f->counts.prefilter += t == TIER_PREFILTER || t == TIER_PREFIX;
		f->counts.pcre += t == TIER_PCRE;
		if (t == TIER_PREFILTER || t == TIER_PREFIX)
			g->d.confirm[k] = true;
		f->has[g->d.rule[k]] = t != TIER_PCRE;
	}
	if (!db) {
		free(g->d.rule);
		free(g->d.confirm);
		return;
	}
	g->d.db = db;
	f->dbs[f->n_dbs++] = g->d;
	f->counts.databases++;
}

static bool build_fast(struct rule_set *rs, const char *cache_dir, bool compile, char *err, size_t errlen)
{
	if (hs_valid_platform() != HS_SUCCESS) {
		snprintf(err, errlen, "Hyperscan does not run on this CPU (it needs SSSE3): rules use PCRE2 alone");
		return false;
	}
	rules_fast_free(rs->fast);
	struct rules_fast *f = xcalloc(1, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->has = xcalloc(rs->n ? rs->n : 1, sizeof(*f->has));
	size_t n_groups = 0;
	struct group *groups = groups_of(rs, &n_groups);
	f->dbs = xcalloc(n_groups ? n_groups : 1, sizeof(*f->dbs));
	char (*keys)[FAST_CACHE_KEY_HEX] = xcalloc(n_groups ? n_groups : 1, sizeof(*keys));
	for (size_t j = 0; j < n_groups; j++) {
		bool cached = false;
		hs_database_t *db = group_database(&groups[j], cache_dir, compile, keys[j], &cached);
		f->counts.cached += cached;
		if (db && hs_alloc_scratch(db, &f->proto) != HS_SUCCESS) {
			hs_free_database(db);
			db = NULL;
		}
		group_done(f, &groups[j], db);
		group_free(&groups[j]);
	}
	free(groups);
	if (cache_dir && compile)
		rules_fast_cache_prune(cache_dir, (const char (*)[FAST_CACHE_KEY_HEX])keys, n_groups);
	free(keys);
	rs->fast = f;
	return true;
}

bool rules_compile_fast(struct rule_set *rs, const char *cache_dir, char *err, size_t errlen)
{
	return build_fast(rs, cache_dir, true, err, errlen);
}

bool rules_load_fast(struct rule_set *rs, const char *cache_dir, char *err, size_t errlen)
{
	return build_fast(rs, cache_dir, false, err, errlen);
}

void rules_fast_free(struct rules_fast *f)
{
	if (!f)
		return;
	for (size_t j = 0; j < f->n_dbs; j++) {
		hs_free_database(f->dbs[j].db);
		free(f->dbs[j].rule);
		free(f->dbs[j].confirm);
	}
	for (size_t k = 0; k < f->n_pool; k++)
		hs_free_scratch(f->pool[k]);
	hs_free_scratch(f->proto);
	pthread_mutex_destroy(&f->lock);
	free(f->pool);
	free(f->dbs);
	free(f->has);
	free(f);
}

void rules_fast_report(const struct rule_set *rs, size_t *exact, size_t *prefilter, size_t *pcre, size_t *databases,
		       size_t *cached)
{
	struct fast_counts c = rs->fast ? rs->fast->counts : (struct fast_counts){ 0 };
	*exact = c.exact;
	*prefilter = c.prefilter;
	*pcre = c.pcre;
	*databases = c.databases;
	*cached = c.cached;
}

void rules_pcre_only(struct rule_set *rs, bool on)
{
	rs->pcre_only = on;
}

/* --- matching -------------------------------------------------------------------- */

const struct fast_db *rules_fast_dbs(const struct rules_fast *f, size_t *n)
{
	*n = f->n_dbs;
	return f->dbs;
}

bool rules_fast_has(const struct rules_fast *f, size_t i)
{
	return f->has[i];
}

hs_scratch_t *rules_fast_scratch_take(struct rules_fast *f)
{
	hs_scratch_t *s = NULL;
	pthread_mutex_lock(&f->lock);
	if (f->n_pool)
		s = f->pool[--f->n_pool];
	pthread_mutex_unlock(&f->lock);
	if (!s && f->proto && hs_clone_scratch(f->proto, &s) != HS_SUCCESS)
		s = NULL;
	return s;
}

void rules_fast_scratch_put(struct rules_fast *f, hs_scratch_t *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->n_pool == f->cap_pool) {
		f->cap_pool = f->cap_pool ? f->cap_pool * 2 : 4;
		f->pool = xreallocarray(f->pool, f->cap_pool, sizeof(*f->pool));
	}
	f->pool[f->n_pool++] = s;
	pthread_mutex_unlock(&f->lock);
}

struct scan_state {
	unsigned *ids;
	unsigned char *seen;
	size_t n, cap;
};

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *arg)
{
	(void)from;
	(void)to;
	(void)flags;
	struct scan_state *st = arg;
	/* Single-match patterns report once; seen keeps an id once even so,
	 * at a constant cost per match. */
	if (id < st->cap && !st->seen[id]) {
		st->seen[id] = 1;
		st->ids[st->n++] = id;
	}
	return 0;
}

size_t rules_fast_scan(const struct fast_db *d, hs_scratch_t *scratch, const char *s, size_t len, unsigned *ids,
		       unsigned char *seen)
{
	struct scan_state st = { ids, seen, 0, d->n };
	if (len == 0)
		return 0;  /* no pattern in a database matches the empty string */
	if (len > UINT_MAX)
		return SIZE_MAX;
	hs_error_t rc = hs_scan(d->db, s, (unsigned)len, 0, scratch, on_match, &st);
	for (size_t k = 0; k < st.n; k++)
		seen[ids[k]] = 0;
	return rc == HS_SUCCESS ? st.n : SIZE_MAX;
}
