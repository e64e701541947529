/*
 * See rules_watch.h.
 */
#include "content/rules_watch.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "content/rules.h"
#include "scan/policy.h"
#include "util/alloc.h"
#include "util/filestamp.h"
#include "util/fnv.h"
#include "util/log.h"

struct rules_watch {
	const struct config *config;
	struct rule_set *set;        /* in force; NULL: no scan.rules */
	/* The sources as last seen: the set's, or after a refused load what
	 * was there then, so that a refused edit is not tried every second. */
	struct rules_source *seen;
	size_t n_seen;
	struct stamp_settle settle;
};

static void seen_clear(struct rules_watch *w)
{
	for (size_t i = 0; i < w->n_seen; i++)
		free(w->seen[i].path);
	free(w->seen);
	w->seen = NULL;
	w->n_seen = 0;
}

/* Remember the sources rs read, as they were when read. */
static void seen_from(struct rules_watch *w, const struct rule_set *rs)
{
	const struct rules_source *src;
	size_t n = rules_sources(rs, &src);
	seen_clear(w);
	w->seen = xreallocarray(NULL, n ? n : 1, sizeof(*w->seen));
	for (size_t i = 0; i < n; i++)
		w->seen[i] = (struct rules_source){ xstrdup(src[i].path), src[i].stamp };
	w->n_seen = n;
}

/* Remember the sources as they are now (after a load that failed). */
static void seen_now(struct rules_watch *w)
{
	for (size_t i = 0; i < w->n_seen; i++)
		w->seen[i].stamp = file_stamp_take(w->seen[i].path);
}

/* True once the sources differ from the seen ones, and did so the same
 * way a poll ago (stamp_settled: an edit is loaded once, whole). */
static bool seen_changed(struct rules_watch *w)
{
	uint64_t seen = FNV64_OFFSET, now = FNV64_OFFSET;
	for (size_t i = 0; i < w->n_seen; i++) {
		struct file_stamp is = file_stamp_take(w->seen[i].path);
		seen = file_stamp_mix(seen, &w->seen[i].stamp);
		now = file_stamp_mix(now, &is);
	}
	return stamp_settled(&w->settle, seen, now);
}

static struct rule_set *load(const struct config *c, char *err, size_t errlen)
{
	return rules_load((const char *const *)c->scan->rules, c->scan->n_rules, err, errlen);
}

struct rules_watch *rules_watch_new(const struct config *c, char *err, size_t errlen)
{
	struct rules_watch *w = xcalloc(1, sizeof(*w));
	w->config = c;
	if (!c->scan || !c->scan->n_rules)
		return w;
	w->set = load(c, err, errlen);
	if (!w->set) {
		free(w);
		return NULL;
	}
	seen_from(w, w->set);
	return w;
}

void rules_watch_free(struct rules_watch *w)
{
	if (!w)
		return;
	seen_clear(w);
	rules_free(w->set);
	free(w);
}

const struct rule_set *rules_watch_set(const struct rules_watch *w)
{
	return w->set;
}

/* The stamp rs read path with; NULL if rs did not read it. */
static const struct file_stamp *stamp_in(const struct rule_set *rs, const char *path)
{
	const struct rules_source *src;
	size_t n = rules_sources(rs, &src);
	for (size_t i = 0; i < n; i++)
		if (strcmp(src[i].path, path) == 0)
			return &src[i].stamp;
	return NULL;
}

/* Index of a broken line of fresh in a file that is new or changed since
 * the running set read it (the edit broke it), or -1. A broken line in an
 * untouched file was there before, left out then as now. */
static long broken_by_edit(const struct rule_set *running, const struct rule_set *fresh)
{
	const char *file, *why;
	int line;
	size_t n = rules_broken(fresh, 0, &file, &line, &why);
	for (size_t i = 0; i < n && i < RULES_BROKEN_MAX; i++) {
		rules_broken(fresh, i, &file, &line, &why);
		const struct file_stamp *was = stamp_in(running, file), *is = stamp_in(fresh, file);
		if (!was || !is || !file_stamp_same(was, is))
			return (long)i;
	}
	return -1;
}

static void log_refused_line(const struct rule_set *fresh, long i)
{
	const char *file, *why;
	int line;
	rules_broken(fresh, (size_t)i, &file, &line, &why);
	log_event(LOG_ERR, "rules_reload_failed", "file", file, "line", log_u64((unsigned long long)line), "msg",
		  why, "action", "keeping the running rules", NULL);
}

bool rules_watch_poll(struct rules_watch *w)
{
	if (!w->set || !seen_changed(w))
		return false;
	char err[1024];
	struct rule_set *fresh = load(w->config, err, sizeof(err));
	if (!fresh) {
		log_event(LOG_ERR, "rules_reload_failed", "msg", err, "action", "keeping the running rules", NULL);
		seen_now(w);
		return false;
	}
	long broken = broken_by_edit(w->set, fresh);
	if (broken >= 0) {
		log_refused_line(fresh, broken);
		seen_from(w, fresh);
		rules_free(fresh);
		return false;
	}
	const struct rules_source *src;
	log_event(LOG_INFO, "rules_reloaded", "rules", log_u64(rules_count(fresh)), "not_supported",
		  log_u64(rules_unsupported(fresh)), "files", log_u64(rules_sources(fresh, &src)), NULL);
	seen_from(w, fresh);
	rules_free(w->set);
	w->set = fresh;
	return true;
}
