/*
 * See yara_watch.h.
 */
#include "master/yara_watch.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "content/yara.h"
#include "scan/policy.h"
#include "util/alloc.h"
#include "util/filestamp.h"
#include "util/fnv.h"
#include "util/log.h"

#define WATCHED_MAX 1000  /* rule files stamped; more are still compiled */

struct yara_watch {
	uint64_t seen;  /* digest of the stamps the running rules were read with */
	struct stamp_settle settle;
};

static uint64_t mix_stamp(uint64_t h, const char *name, const char *path)
{
	struct file_stamp st = file_stamp_take(path);
	return file_stamp_mix(fnv64_mix(h, name, strlen(name) + 1), &st);
}

static bool is_rule_file(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && ((n > 4 && strcmp(name + n - 4, ".yar") == 0) ||
				  (n > 5 && strcmp(name + n - 5, ".yara") == 0));
}

/* One digest of the path and, for a directory, of every rule file in it
 * (readdir order varies, but a directory whose entries change gets a new
 * mtime, and the files' own stamps are mixed in whatever the order: the
 * digest of each is added, not chained). */
static uint64_t digest(const char *path)
{
	uint64_t h = mix_stamp(1469598103934665603ull, "", path);
	DIR *d = opendir(path);
	if (!d)
		return h;
	uint64_t sum = 0;
	size_t n = 0;
	char file[4400];
	for (struct dirent *e; (e = readdir(d)) != NULL && n < WATCHED_MAX;)
		if (is_rule_file(e->d_name)) {
			snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
			sum += mix_stamp(1469598103934665603ull, e->d_name, file);
			n++;
		}
	closedir(d);
	return fnv64_mix(h, &sum, sizeof(sum));
}

struct yara_watch *yara_watch_new(const struct config *c)
{
	if (!c->scan || !c->scan->yara)
		return NULL;
	struct yara_watch *w = xcalloc(1, sizeof(*w));
	w->seen = digest(c->scan->yara->rules);
	return w;
}

void yara_watch_free(struct yara_watch *w)
{
	free(w);
}

bool yara_watch_poll(struct yara_watch *w, const struct config *c)
{
	if (!w || !c->scan || !c->scan->yara)
		return false;
	uint64_t now = digest(c->scan->yara->rules);
	if (!stamp_settled(&w->settle, w->seen, now))
		return false;
	w->seen = now;  /* a broken edit is reported once, and tried again at the next one */
	char err[1024];
	struct yara_engine *y = yara_engine_load(c->scan->yara->rules, err, sizeof(err));
	if (!y) {
		log_event(LOG_ERR, "yara_reload_failed", "rules", c->scan->yara->rules, "msg", err, NULL);
		return false;
	}
	log_event(LOG_INFO, "yara_reloaded", "rules", c->scan->yara->rules, "count", log_u64(yara_engine_rules(y)),
		  NULL);
	yara_engine_free(y);
	return true;
}
