/*
 * See yara.h.
 */
#include "content/yara.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yara.h>

#include "util/alloc.h"

/* Rule files per directory. */
#define FILES_MAX 1000

struct yara_engine {
	YR_RULES *rules;
	size_t n_rules, n_files;
};

/* The first compile errors, "file:line: message; ..." */
struct compile_errors {
	char text[1024];
	size_t n;
};

static void on_compile_message(int level, const char *file, int line, const YR_RULE *rule, const char *message,
			       void *arg)
{
	(void)rule;
	struct compile_errors *e = arg;
	size_t used = strlen(e->text);
	if (level != YARA_ERROR_LEVEL_ERROR || e->n++ >= 3 || used + 8 >= sizeof(e->text))
		return;
	snprintf(e->text + used, sizeof(e->text) - used, "%s%s:%d: %s", used ? "; " : "", file ? file : "?", line,
		 message);
}

static bool is_rule_file(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && ((n > 4 && strcmp(name + n - 4, ".yar") == 0) ||
				  (n > 5 && strcmp(name + n - 5, ".yara") == 0));
}

static int rule_file_filter(const struct dirent *d)
{
	return is_rule_file(d->d_name);
}

/* One file into the compiler; false: it could not be read or compiled
 * (err set; the compiler is then unusable, as libyara documents). */
static bool add_file(YR_COMPILER *c, struct compile_errors *ce, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot be read", path);
		return false;
	}
	int failures = yr_compiler_add_file(c, f, NULL, path);
	fclose(f);
	if (failures > 0)
		snprintf(err, errlen, "%s", ce->text[0] ? ce->text : "rules do not compile");
	return failures == 0;
}

/* Every rule file of dir, in name order. */
static bool add_dir(YR_COMPILER *c, struct compile_errors *ce, const char *dir, size_t *files, char *err,
		    size_t errlen)
{
	struct dirent **names;
	int n = scandir(dir, &names, rule_file_filter, alphasort);
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot be read", dir);
		return false;
	}
	bool ok = n <= FILES_MAX;
	if (!ok)
		snprintf(err, errlen, "%s: more than %d rule files", dir, FILES_MAX);
	for (int i = 0; ok && i < n; i++) {
		char path[4400];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		ok = add_file(c, ce, path, err, errlen);
		*files += ok;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (ok && *files == 0) {
		snprintf(err, errlen, "%s: no rule files (*.yar, *.yara)", dir);
		ok = false;
	}
	return ok;
}

static bool compile(YR_COMPILER *c, const char *path, struct yara_engine *y, char *err, size_t errlen)
{
	struct compile_errors ce = { "", 0 };
	struct stat st;
	yr_compiler_set_callback(c, on_compile_message, &ce);
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: not found", path);
		return false;
	}
	bool ok = S_ISDIR(st.st_mode) ? add_dir(c, &ce, path, &y->n_files, err, errlen)
				      : (y->n_files = 1, add_file(c, &ce, path, err, errlen));
	if (ok && yr_compiler_get_rules(c, &y->rules) != ERROR_SUCCESS) {
		snprintf(err, errlen, "%s: rules could not be built (out of memory)", path);
		ok = false;
	}
	return ok;
}

struct yara_engine *yara_engine_load(const char *path, char *err, size_t errlen)
{
	if (yr_initialize() != ERROR_SUCCESS) {
		snprintf(err, errlen, "libyara could not be initialised");
		return NULL;
	}
	struct yara_engine *y = xcalloc(1, sizeof(*y));
	YR_COMPILER *c = NULL;
	bool ok = yr_compiler_create(&c) == ERROR_SUCCESS && compile(c, path, y, err, errlen);
	if (!c)
		snprintf(err, errlen, "libyara: no compiler (out of memory)");
	if (c)
		yr_compiler_destroy(c);
	if (!ok) {
		yara_engine_free(y);
		return NULL;
	}
	const YR_RULE *rule;
	yr_rules_foreach(y->rules, rule)
		y->n_rules++;
	return y;
}

void yara_engine_free(struct yara_engine *y)
{
	if (!y)
		return;
	if (y->rules)
		yr_rules_destroy(y->rules);
	free(y);
	yr_finalize();  /* counted: the last engine's free ends libyara */
}

size_t yara_engine_rules(const struct yara_engine *y)
{
	return y->n_rules;
}

size_t yara_engine_files(const struct yara_engine *y)
{
	return y->n_files;
}

/* The first matching rule ends the scan. */
static int on_scan_message(YR_SCAN_CONTEXT *ctx, int message, void *data, void *arg)
{
	(void)ctx;
	if (message != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	const YR_RULE *rule = data;
	struct malware_verdict *out = arg;
	out->status = MALWARE_FOUND;
	malware_verdict_text(out, rule->identifier, strlen(rule->identifier));
	return CALLBACK_ABORT;
}

void yara_engine_scan(const void *ctx, const char *buf, size_t len, const char *name, struct malware_verdict *out)
{
	(void)name;
	const struct yara_engine *y = ctx;
	out->status = MALWARE_CLEAN;
	out->text[0] = '\0';
	int rc = yr_rules_scan_mem(y->rules, (const uint8_t *)buf, len, SCAN_FLAGS_FAST_MODE, on_scan_message, out,
				   YARA_SCAN_TIMEOUT_S);
	if (rc == ERROR_SUCCESS || out->status == MALWARE_FOUND)
		return;
	char why[64] = "yara scan timed out";
	if (rc != ERROR_SCAN_TIMEOUT)
		snprintf(why, sizeof(why), "yara scan failed (libyara error %d)", rc);
	out->status = MALWARE_ERROR;
	malware_verdict_text(out, why, strlen(why));
}
