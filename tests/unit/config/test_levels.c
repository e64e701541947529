/*
 * Emergency levels in the configuration (SCAN-11, config/levels.c): each
 * level is a whole snapshot with its overrides, level 0 the file as
 * written; levels are found by number or name.
 */
#include "../config_file.h"

#include "scan/policy.h"
#include "scan/scan.h"
#include "verdict/points.h"

TestSuite(levels, .fini = config_file_teardown);

static const char plan[] =
	"scan:\n"
	"  inbound: {checks: {rdns: score}, refuse: 15}\n"
	"emergency:\n"
	"  levels:\n"
	"    - name: flood\n"
	"      limits: {recipients: 5, message_size: 2M}\n"
	"      scan: {inbound: {checks: {rdns: refuse}, refuse: 8}}\n"
	"    - name: partners\n"
	"      partners_only: both\n";

Test(levels, a_first_entry_with_overrides_makes_level_0_the_implicit_normal)
{
	cr_assert_not_null(load(plan));
	cr_assert_eq(cfg->emergency.n_levels, 3);
	cr_assert_str_eq(cfg->emergency.levels[0].name, "normal");
	cr_assert_eq(config_level(cfg, 0), cfg);
	cr_assert_eq(config_level_find(cfg, "flood"), 1);
	cr_assert_eq(config_level_find(cfg, "2"), 2);
	cr_assert_eq(config_level_find(cfg, "3"), -1);
	cr_assert_eq(config_level_find(cfg, "panic"), -1);
	cr_assert_null(config_level(cfg, 3));
}

Test(levels, a_level_is_the_configuration_with_its_overrides_and_nothing_else)
{
	cr_assert_not_null(load(plan));
	const struct config *flood = config_level(cfg, 1);
	cr_assert_eq(flood->limits.recipients, 5);
	cr_assert_eq(flood->limits.message_size, 2u * 1024 * 1024);
	cr_assert_eq(flood->limits.connections, cfg->limits.connections);
	cr_assert_eq(flood->scan->inbound.refuse, 8 * POINTS_ONE);
	cr_assert_eq(cfg->scan->inbound.refuse, 15 * POINTS_ONE);
	int rdns = scan_check_index("rdns", 4);
	cr_assert_eq(flood->scan->inbound.checks[rdns].action, SCAN_CHECK_REFUSE);
	cr_assert_eq(cfg->scan->inbound.checks[rdns].action, SCAN_CHECK_SCORE);
	cr_assert_eq(cfg->partners_only, PARTNERS_ONLY_OFF);
	cr_assert_eq(config_level(cfg, 2)->partners_only, PARTNERS_ONLY_BOTH);
}

Test(levels, a_first_entry_without_overrides_names_level_0)
{
	cr_assert_not_null(load("emergency:\n  levels:\n    - name: calm\n    - name: storm\n"
				"      limits: {connections: 3}\n"));
	cr_assert_eq(cfg->emergency.n_levels, 2);
	cr_assert_str_eq(cfg->emergency.levels[0].name, "calm");
	cr_assert_eq(config_level(cfg, 1)->limits.connections, 3);
}

Test(levels, without_an_emergency_section_there_is_level_0_and_a_state_file_in_the_spool)
{
	cr_assert_not_null(load("hostname: mx.example.test\n"));
	cr_assert_eq(cfg->emergency.n_levels, 1);
	cr_assert_eq(config_level_find(cfg, "normal"), 0);
	cr_assert_null(section("emergency"), "emergency: is config/'s own, not a registered section");
	const char *tail = "/spool/emergency.state";
	size_t n = strlen(cfg->emergency.state_file);
	cr_assert(n > strlen(tail) && strcmp(cfg->emergency.state_file + n - strlen(tail), tail) == 0);
}

Test(levels, a_bad_override_names_file_line_and_key)
{
	cr_assert_null(load("emergency:\n  levels:\n    - name: flood\n      limits: {recipients: 0}\n"));
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(error(0), "4: emergency.levels[0].limits.recipients: must be between 1 and 100000");
}

/* Errors are reported all in one run (STYLE 10): a bad name skips the
 * level but does not hide the entry's other problems. */
Test(levels, a_bad_name_does_not_hide_the_entrys_other_errors)
{
	cr_assert_null(load("emergency:\n  levels:\n    - name: 9x\n      partners_only: sideways\n"
			    "      colour: red\n"));
	cr_assert_eq(errs.n, 3);
	cr_assert_str_eq(error(0), "3: emergency.levels[0].name: must not start with a digit (numbers name levels by "
			 "position)");
	cr_assert_str_eq(error(1), "4: emergency.levels[0].partners_only: must be one of: inbound, outbound, both");
	cr_assert_str_eq(error(2), "5: emergency.levels[0].colour: unknown key (name, limits, scan, partners_only, "
			 "trigger)");
}

Test(levels, a_level_sets_the_content_scans_deadline_within_its_bounds)
{
	cr_assert_not_null(load("scan: {inbound: {tag: 5}}\nemergency:\n  levels:\n    - name: outbreak\n"
				"      scan: {scanner_timeout_ms: 20000}\n"));
	cr_assert_eq(config_level(cfg, 1)->scan->scanner_timeout_ms, 20000);
	cr_assert_null(load("scan: {inbound: {tag: 5}}\nemergency:\n  levels:\n    - name: outbreak\n"
			    "      scan: {scanner_timeout_ms: 5, rules: [x]}\n"));
	cr_assert_eq(errs.n, 2);
	cr_assert_str_eq(error(0), "5: emergency.levels[0].scan.scanner_timeout_ms: must be between 100 and 300000");
	cr_assert_str_eq(error(1), "5: emergency.levels[0].scan.rules: a level changes only scan.inbound, scan.outbound "
				   "and scan.scanner_timeout_ms");
}
