/*
 * A fixture for unit tests that load a configuration from YAML text: load()
 * writes it to a temporary file, loads it as the administrator's file
 * would be and removes the file; the result and the errors stay in cfg and
 * errs until config_file_teardown() (the suite's .fini). Header-only, with
 * static state: each test binary is one .c that includes it once.
 */
#ifndef MW_TESTS_UNIT_CONFIG_FILE_H
#define MW_TESTS_UNIT_CONFIG_FILE_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/section.h"

static struct config_errors errs;
static struct config *cfg;

static void config_file_teardown(void)
{
	config_errors_free(&errs);
	config_free(cfg);
	cfg = NULL;
}

static struct config *load(const char *yaml)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/mw-test-config-file-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	config_free(cfg);
	cfg = config_load(path, &errs);
	unlink(path);
	return cfg;
}

/* Error i after "FILE:" (the temporary file's name varies): "LINE: key: problem". */
static const char *error(size_t i)
{
	cr_assert_lt(i, errs.n, "only %zu errors", errs.n);
	const char *colon = strchr(errs.items[i], ':');
	cr_assert_not_null(colon);
	return colon + 1;
}

/* The registered section for a top-level key, or NULL. */
static const struct config_section *section(const char *key)
{
	for (const struct config_section *const *s = config_sections; *s; s++)
		if (strcmp((*s)->key, key) == 0)
			return *s;
	return NULL;
}

#endif
