/* Rule files that take effect at once (content/rules_watch.h; issue 11,
 * SCAN-5): the files a load read, broken lines told apart from
 * unsupported ones, and the watch that takes a changed set or keeps the
 * running one. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "content/rules.h"
#include "content/rules_watch.h"

static char dir[] = "/tmp/mw-rwatch-XXXXXX";
static char path[300];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	strcpy(dir, "/tmp/mw-rwatch-XXXXXX");
}

TestSuite(rules_watch, .init = setup, .fini = teardown);

/* Write dir/name; its modification time moves even on a coarse clock. */
static const char *write_file(const char *name, const char *text)
{
	struct stat before;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	bool existed = stat(path, &before) == 0;
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	struct stat after;
	cr_assert_eq(stat(path, &after), 0);
	if (existed && after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec) {
		struct timespec t[2] = { after.st_atim, { before.st_mtim.tv_sec + 1, 0 } };
		utimensat(AT_FDCWD, path, t, 0);
	}
	return path;
}

static bool has_source(const struct rule_set *rs, const char *name)
{
	const struct rules_source *src;
	char want[300];
	snprintf(want, sizeof(want), "%s%s%s", dir, name[0] ? "/" : "", name);
	for (size_t i = 0, n = rules_sources(rs, &src); i < n; i++)
		if (strcmp(src[i].path, want) == 0 && src[i].stamp.exists)
			return true;
	return false;
}

Test(rules_watch, a_load_names_every_file_and_directory_it_read)
{
	write_file("10_a.cf", "body A /a/\ninclude more.inc\n");
	write_file("more.inc", "body B /b/\n");
	write_file("20_b.cf", "body C /c/\n");
	write_file("notes.txt", "body D /d/\n");
	const char *paths[] = { dir };
	char err[512];
	struct rule_set *rs = rules_load(paths, 1, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	const struct rules_source *src;
	cr_assert_eq(rules_sources(rs, &src), 4);
	cr_assert(has_source(rs, ""));  /* the directory: files coming and going */
	cr_assert(has_source(rs, "10_a.cf"));
	cr_assert(has_source(rs, "more.inc"));
	cr_assert(has_source(rs, "20_b.cf"));
	rules_free(rs);
}

Test(rules_watch, broken_lines_are_told_apart_from_unsupported_ones)
{
	const char *p = write_file("50.cf", "body GOOD /good/\n"
					    "body BAD_RE /un(closed/\n"
					    "header NO_OP Subject /x/\n"
					    "score GOOD lots\n"
					    "body EVAL eval:check_something_we_lack()\n");
	char err[512];
	struct rule_set *rs = rules_load(&p, 1, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	const char *file, *why;
	int line;
	cr_assert_eq(rules_broken(rs, 0, &file, &line, &why), 3);
	cr_assert_str_eq(file, p);
	cr_assert_eq(line, 2);
	cr_assert_not_null(strstr(why, "BAD_RE: regex does not compile"), "%s", why);
	rules_broken(rs, 1, &file, &line, &why);
	cr_assert_eq(line, 3);
	rules_broken(rs, 2, &file, &line, &why);
	cr_assert_eq(line, 4);
	cr_assert_eq(rules_unsupported(rs), 4);  /* the eval test is noted, not broken */
	rules_free(rs);
}

static struct config *config_with_rules(const char *rules)
{
	char yaml[600], conf[300];
	snprintf(conf, sizeof(conf), "%s/mw.yaml", dir);
	snprintf(yaml, sizeof(yaml), "state_dir: %s\nscan:\n  rules: [%s]\n", dir, rules);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fputs(yaml, f);
	fclose(f);
	struct config_errors errs = { 0 };
	struct config *c = config_load(conf, &errs);
	cr_assert_not_null(c, "%s", errs.n ? errs.items[0] : "");
	config_errors_free(&errs);
	return c;
}

/* A change counts once it has stayed put for one poll (the master polls
 * once a second): the first poll that sees it only notes it. */
static bool settled_poll(struct rules_watch *w)
{
	cr_assert_not(rules_watch_poll(w), "a change is loaded only once it has stayed put for a poll");
	return rules_watch_poll(w);
}

Test(rules_watch, a_changed_set_takes_over_a_broken_one_does_not)
{
	char rules[300];
	snprintf(rules, sizeof(rules), "%s/rules", dir);
	cr_assert_eq(mkdir(rules, 0755), 0);
	write_file("rules/50.cf", "body ONE /one/\n");
	struct config *c = config_with_rules(rules);
	char err[512];
	struct rules_watch *w = rules_watch_new(c, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	const struct rule_set *first = rules_watch_set(w);
	cr_assert_eq(rules_count(first), 1);
	cr_assert_not(rules_watch_poll(w), "nothing changed");

	write_file("rules/50.cf", "body ONE /one/\nbody TWO /two/\n");
	cr_assert(settled_poll(w));
	cr_assert_eq(rules_count(rules_watch_set(w)), 2);

	/* A regex that does not compile: the running set stays, and the same
	 * broken file is not tried again until it changes. */
	write_file("rules/50.cf", "body ONE /one/\nbody TWO /tw(o/\n");
	cr_assert_not(settled_poll(w));
	cr_assert_eq(rules_count(rules_watch_set(w)), 2);
	cr_assert_not(rules_watch_poll(w));

	/* A file dropped into the directory. */
	write_file("rules/60.cf", "body THREE /three/\n");
	write_file("rules/50.cf", "body ONE /one/\nbody TWO /two/\n");
	cr_assert(settled_poll(w));
	cr_assert_eq(rules_count(rules_watch_set(w)), 3);

	/* A file that cannot be read: kept, and tried again once it is back. */
	write_file("rules/70.cf", "body FOUR /four/\n");
	chmod(path, 0);
	if (access(path, R_OK) != 0) {  /* root reads anything: nothing to test then */
		cr_assert_not(settled_poll(w));
		cr_assert_eq(rules_count(rules_watch_set(w)), 3);
		chmod(path, 0644);
		cr_assert(rules_watch_poll(w));
		cr_assert_eq(rules_count(rules_watch_set(w)), 4);
	}
	rules_watch_free(w);
	config_free(c);
}

Test(rules_watch, a_broken_line_in_an_untouched_file_does_not_block_an_edit)
{
	write_file("10_old.cf", "body OLD /ol(d/\n");   /* broken since the start: left out */
	write_file("20_new.cf", "body NEW /new/\n");
	struct config *c = config_with_rules(dir);
	char err[512];
	struct rules_watch *w = rules_watch_new(c, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	cr_assert_eq(rules_count(rules_watch_set(w)), 1);
	write_file("20_new.cf", "body NEW /new/\nbody NEWER /newer/\n");
	cr_assert(settled_poll(w));
	cr_assert_eq(rules_count(rules_watch_set(w)), 2);
	rules_watch_free(w);
	config_free(c);
}

Test(rules_watch, a_file_saved_in_place_is_loaded_once_and_whole)
{
	write_file("50.cf", "body ONE /one/\n");
	struct config *c = config_with_rules(dir);
	char err[512];
	struct rules_watch *w = rules_watch_new(c, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	/* An editor truncates, a poll falls in between, then it writes. */
	write_file("50.cf", "");
	cr_assert_not(rules_watch_poll(w), "the empty file is not loaded at first sight");
	write_file("50.cf", "body ONE /one/\nbody TWO /two/\n");
	cr_assert_not(rules_watch_poll(w), "still changing");
	cr_assert(rules_watch_poll(w));
	cr_assert_eq(rules_count(rules_watch_set(w)), 2, "one reload, of the whole file");
	cr_assert_not(rules_watch_poll(w));
	rules_watch_free(w);
	config_free(c);
}

Test(rules_watch, no_rules_configured_watches_nothing)
{
	struct config *c = config_with_rules("");
	char err[512];
	struct rules_watch *w = rules_watch_new(c, err, sizeof(err));
	cr_assert_not_null(w);
	cr_assert_null(rules_watch_set(w));
	cr_assert_not(rules_watch_poll(w));
	rules_watch_free(w);
	config_free(c);
}
