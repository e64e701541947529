/*
 * The emergency level's state file (SCAN-11, state/levelstate.c): what
 * is written is read back; a level whose time is over, one the
 * configuration lacks, or a damaged file means level 0.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "state/levelstate.h"

static char dir[64];
static char path[128];
static struct config *cfg;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mw-test-levelstate-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/level.state", dir);
	char conf[160];
	snprintf(conf, sizeof(conf), "%s/mw.yaml", dir);
	FILE *f = fopen(conf, "w");
	fputs("emergency:\n  levels:\n    - name: normal\n    - name: flood\n"
	      "      limits: {recipients: 2}\n", f);
	fclose(f);
	struct config_errors errs = { 0 };
	cfg = config_load(conf, &errs);
	config_errors_free(&errs);
	cr_assert_not_null(cfg);
	unlink(conf);
}

static void teardown(void)
{
	config_free(cfg);
	unlink(path);
	rmdir(dir);
}

TestSuite(levelstate, .init = setup, .fini = teardown);

Test(levelstate, what_is_written_is_read_back)
{
	struct level_state st = { .name = "flood", .since = 1000, .until = 2000, .by = "uid:0",
				  .reason = "mail flood" }, got;
	char why[256];
	cr_assert(level_state_write(path, &st, why, sizeof(why)), "%s", why);
	cr_assert(level_state_read(path, &got));
	cr_assert_str_eq(got.name, "flood");
	cr_assert_eq(got.since, 1000);
	cr_assert_eq(got.until, 2000);
	cr_assert_str_eq(got.by, "uid:0");
	cr_assert_str_eq(got.reason, "mail flood");
	cr_assert_eq(level_state_level(cfg, &got, 1999), 1);
	cr_assert_eq(level_state_level(cfg, &got, 2000), 0, "its time is over");
}

Test(levelstate, a_level_without_an_end_stays)
{
	struct level_state st = { .name = "flood", .since = 1000 };
	cr_assert_eq(level_state_level(cfg, &st, 1 << 30), 1);
}

Test(levelstate, a_missing_damaged_or_unknown_state_is_level_0)
{
	struct level_state got;
	cr_assert_not(level_state_read(path, &got));
	cr_assert_str_eq(got.name, "normal");
	FILE *f = fopen(path, "w");
	fputs("level flood\nsince soon\n", f);
	fclose(f);
	cr_assert_not(level_state_read(path, &got));
	cr_assert_eq(level_state_level(cfg, &got, 0), 0);
	struct level_state other = { .name = "panic" };
	cr_assert_eq(level_state_level(cfg, &other, 0), 0);
}
