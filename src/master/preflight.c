/*
 * See preflight.h.
 */
#include "master/preflight.h"

#include <stdio.h>

#include "scan/data.h"

/* "file:line: key" or, for the embedded default, "file: key". */
static void where(const struct config *c, int line, const char *key, char *buf, size_t size)
{
	if (line > 0)
		snprintf(buf, size, "%s:%d: %s", c->source, line, key);
	else
		snprintf(buf, size, "%s: %s", c->source, key);
}

/* SCAN-3, issue 16: a scanner file that cannot be read fails closed (the
 * gateway does not start) unless the configuration says optional: true;
 * then it starts without it, with a warning. */
static void check_scan_files(const struct config *c, struct config_errors *errs, struct config_errors *warnings)
{
	const char *paths[SCAN_FILES_MAX];
	size_t n = scan_config_files(c->scan, paths, SCAN_FILES_MAX);
	for (size_t i = 0; i < n; i++) {
		char why[4400], key[64], at[4200];
		if (!paths[i] || scan_data_file_ok(paths[i], i, why, sizeof(why)))
			continue;
		scan_config_file_key(i, key, sizeof(key));
		where(c, c->scan->file_meta[i].line, key, at, sizeof(at));
		if (c->scan->file_meta[i].optional)
			config_errors_add(warnings, "%s: warning: %s (optional: starting without it)", at, why);
		else
			config_errors_add(errs, "%s: %s", at, why);
	}
}

void preflight_check(const struct config *c, struct config_errors *errs, struct config_errors *warnings)
{
	check_scan_files(c, errs, warnings);
}
