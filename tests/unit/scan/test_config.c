/* The "scan:" section (src/scan/config.c), registered with the loader
 * through config/section.h and read by the same schema machinery as every
 * other key. */
#include <criterion/criterion.h>

#include <string.h>

#include "../config_file.h"
#include "content/check.h"
#include "scan/policy.h"
#include "scan/scan.h"

TestSuite(scan_config, .fini = config_file_teardown);

#define BASE "hostname: mx.test\nstate_dir: /tmp\n"

Test(scan_config, is_a_registered_section)
{
	const struct config_section *s = section("scan");
	cr_assert_not_null(s);
	cr_assert_eq(s, &scan_config_section);
}

/* Every default of every registered section of keys passes its own
 * key's checks, and every key is documented and named once. */
Test(scan_config, every_section_default_is_valid)
{
	char problem[256];
	for (const struct config_section *const *s = config_sections; *s; s++) {
		if ((*s)->load_value)
			continue;  /* a whole-value section: no keys of its own */
		void *part = (*s)->create();
		struct config c = { 0 };
		for (size_t i = 0; i < (*s)->n_keys; i++) {
			const struct config_key *k = &(*s)->keys[i];
			cr_assert(k->schema.help && k->schema.help[0], "%s.%s has no help", (*s)->key, k->schema.key);
			for (size_t j = 0; j < i; j++)
				cr_assert_str_neq(k->schema.key, (*s)->keys[j].schema.key);
			if (k->def)
				cr_assert(schema_set(&k->schema, part, k->def, strlen(k->def), problem, sizeof(problem)),
					  "%s.%s: default %s: %s", (*s)->key, k->schema.key, k->def, problem);
		}
		(*s)->attach(&c, part);
		(*s)->release(&c);
	}
}

Test(scan_config, an_empty_section_has_the_declared_defaults)
{
	cr_assert_not_null(load(BASE "scan: {}\n"));
	cr_assert_not_null(cfg->scan);
	cr_assert_null(cfg->scan->dns_servers);
	cr_assert_eq(cfg->scan->dns_timeout_ms, 2000);
	cr_assert_eq(cfg->scan->greylist_delay, 300);
	cr_assert_eq(cfg->scan->greylist_expiry, 36 * 86400);
	cr_assert_eq(cfg->scan->scanner_timeout_ms, 60000);
}

Test(scan_config, without_the_section_there_is_no_scanning)
{
	cr_assert_not_null(load(BASE));
	cr_assert_null(cfg->scan);
}

/* The default greylist_expiry (36 days) was above the old maximum, so an
 * administrator could not write it back. */
Test(scan_config, the_default_greylist_expiry_can_be_written)
{
	cr_assert_not_null(load(BASE "scan:\n  greylist_expiry: 3110400\n  dns_servers: 127.0.0.1:53\n"));
	cr_assert_eq(cfg->scan->greylist_expiry, 3110400);
	cr_assert_str_eq(cfg->scan->dns_servers, "127.0.0.1:53");
}

Test(scan_config, scalar_errors_name_file_line_and_key)
{
	cr_assert_null(load(BASE "scan:\n"
			   "  dns_timeout_ms: -5\n"
			   "  greylist_delay: soon\n"
			   "  greylist_expiry: 3110401\n"
			   "  dns_servers: \"a\\tb\"\n"
			   "  colour: blue\n"));
	cr_assert_eq(errs.n, 5);
	cr_assert_str_eq(error(0), "4: scan.dns_timeout_ms: not a number (use decimal digits)");
	cr_assert_str_eq(error(1), "5: scan.greylist_delay: not a number (use decimal digits)");
	cr_assert_str_eq(error(2), "6: scan.greylist_expiry: must be between 3600 and 3110400");
	cr_assert_str_eq(error(3), "7: scan.dns_servers: contains control characters");
	cr_assert_str_eq(error(4), "8: scan.colour: unknown key");
}

/* The user's section replaces the whole previous one, scalars included. */
Test(scan_config, a_value_overrides_only_its_key)
{
	cr_assert_not_null(load(BASE "scan:\n  greylist_delay: 0\n  inbound: {tag: 5}\n"));
	cr_assert_eq(cfg->scan->greylist_delay, 0);
	cr_assert_eq(cfg->scan->dns_timeout_ms, 2000);
	cr_assert_eq(cfg->scan->inbound.tag, 500, "thresholds are kept in hundredths");
}

/* Points and thresholds take up to two decimals and are kept in
 * hundredths (verdict/points.h); whole numbers mean what they did. */
Test(scan_config, points_and_thresholds_take_two_decimals)
{
	cr_assert_not_null(load(BASE "scan:\n"
				"  rbl_files: [{file: /z/local.zone, points: 2.5}]\n"
				"  dnsbl: [{zone: bl.test, points: -1.25, codes: {127.0.0.4: 0.05}}]\n"
				"  inbound:\n"
				"    checks: {rdns: {action: score, points: 3}, headers: {points: 1.5}}\n"
				"    tag: 4.5\n"
				"    quarantine: 10\n"
				"    discard: 99.99\n"
				"    refuse: 0\n"
				"  outbound: {tag: \"2.50\"}\n"));
	const struct scan_config *sc = cfg->scan;
	cr_assert_eq(sc->rbl_files[0].points, 250);
	cr_assert_eq(sc->dnsbls[0].points, -125);
	cr_assert_eq(sc->dnsbls[0].codes[0].points, 5);
	cr_assert_eq(sc->inbound.checks[scan_check_index("rdns", 4)].points, 300);
	cr_assert_eq(sc->inbound.content[content_check_index("headers", 7)].points, 150);
	cr_assert_eq(sc->inbound.tag, 450);
	cr_assert_eq(sc->inbound.quarantine, 1000);
	cr_assert_eq(sc->inbound.discard, 9999);
	cr_assert_eq(sc->inbound.refuse, 0, "0: not used");
	cr_assert_eq(sc->outbound.tag, 250);
}

Test(scan_config, unset_points_default_to_whole_points_in_hundredths)
{
	cr_assert_not_null(load(BASE "scan:\n"
				"  rbl_files: [{file: /z/local.zone}]\n"
				"  dnsbl: [{zone: bl.test}]\n"
				"  inbound: {checks: {rdns: score}}\n"));
	cr_assert_eq(cfg->scan->rbl_files[0].points, 1000);
	cr_assert_eq(cfg->scan->dnsbls[0].points, 1000);
	cr_assert_eq(cfg->scan->inbound.checks[scan_check_index("rdns", 4)].points, 100);
	cr_assert_eq(cfg->scan->inbound.content[content_check_index("headers", 7)].points, 100);
}

/* More than two decimals or anything that is not such a number is an
 * error naming file, line and key; every one is reported. */
Test(scan_config, bad_decimals_are_errors_with_file_and_line)
{
	cr_assert_null(load(BASE "scan:\n"
			   "  rbl_files: [{file: /z/local.zone, points: 2.125}]\n"
			   "  dnsbl: [{zone: bl.test, points: 2.5.1, codes: {127.0.0.4: abc}}]\n"
			   "  inbound:\n"
			   "    checks: {rdns: {points: 0.001}}\n"
			   "    tag: \"4,5\"\n"
			   "    quarantine: 100000.01\n"
			   "    refuse: -0.5\n"
			   "    discard: 1e3\n"));
	cr_assert_eq(errs.n, 8, "%zu errors", errs.n);
	for (size_t i = 0; i < errs.n; i++)
		cr_assert(strncmp(errs.items[i], "/tmp/mw-test-config-file-", 25) == 0, "%s", errs.items[i]);
	cr_assert_str_eq(error(0), "4: scan.rbl_files[0].points: more than two decimals (points count in "
			 "hundredths: e.g. 2.5 or 1.25)");
	cr_assert_str_eq(error(1), "5: scan.dnsbl[0].points: not a number between -1000 and 1000 (at most two "
			 "decimals, e.g. 2.5)");
	cr_assert_str_eq(error(2), "5: scan.dnsbl[0].codes.127.0.0.4: not a number between -1000 and 1000 (at most "
			 "two decimals, e.g. 2.5)");
	cr_assert_str_eq(error(3), "7: scan.inbound.checks.rdns.points: more than two decimals (points count in "
			 "hundredths: e.g. 2.5 or 1.25)");
	cr_assert_str_eq(error(4), "8: scan.inbound.tag: not a number between 0 and 100000 (at most two decimals, "
			 "e.g. 2.5)");
	cr_assert_str_eq(error(5), "9: scan.inbound.quarantine: must be between 0 and 100000");
	cr_assert_str_eq(error(6), "10: scan.inbound.refuse: must be between 0 and 100000");
	cr_assert_str_eq(error(7), "11: scan.inbound.discard: not a number between 0 and 100000 (at most two "
			 "decimals, e.g. 2.5)");
}

/* rbl_files: and dnsbl: are lists of mappings: each item is named by its
 * index, one that is not a mapping is reported (one without a line of its
 * own, "{}", at the line before), a null one skipped, and more than 64 are
 * refused at the first one too many. */
Test(scan_config, list_items_are_named_by_index)
{
	cr_assert_null(load(BASE "scan:\n"
			   "  rbl_files:\n"
			   "    - 5\n"
			   "    - {}\n"
			   "    - {name: a}\n"
			   "    - {file: /x/zone, colour: blue}\n"
			   "  dnsbl:\n"
			   "    - [zone]\n"
			   "    - {points: 1}\n"
			   "    - {zone: \"bad..zone\"}\n"
			   "    - {zone: bl.test}\n"
			   "    - ~\n"
			   "  ip_allow: x\n"
			   "  recipients: 7\n"
			   "  inbound: 5\n"
			   "  outbound: {tag: 1}\n"
			   "  scanner_failure: accept\n"
			   "  ip_deny: {file: /d, optional: true}\n"));
	cr_assert_eq(errs.n, 8, "%zu errors", errs.n);
	cr_assert_str_eq(error(0), "5: scan.rbl_files[0]: expected a mapping with file, name, points");
	cr_assert_str_eq(error(1), "5: scan.rbl_files[1]: file is required");
	cr_assert_str_eq(error(2), "7: scan.rbl_files[2]: file is required");
	cr_assert_str_eq(error(3), "8: scan.rbl_files[3].colour: unknown key (file, name, points, type, optional, "
			 "exempt_authenticated)");
	cr_assert_str_eq(error(4), "10: scan.dnsbl[0]: expected a mapping with zone, points, codes");
	cr_assert_str_eq(error(5), "11: scan.dnsbl[1]: zone is required");
	cr_assert_str_eq(error(6), "12: scan.dnsbl[2].zone: empty label in domain name");
	cr_assert_str_eq(error(7), "17: scan.inbound: expected a mapping");
}

Test(scan_config, lists_that_are_not_lists_are_reported)
{
	cr_assert_null(load(BASE "scan:\n  rbl_files: x\n  dnsbl: {zone: bl.test}\n"));
	cr_assert_eq(errs.n, 2, "%zu errors", errs.n);
	cr_assert_str_eq(error(0), "4: scan.rbl_files: expected a list of {file, name, points}");
	cr_assert_str_eq(error(1), "5: scan.dnsbl: expected a list of {zone, points, codes}");
}

Test(scan_config, more_than_64_list_items_are_refused)
{
	static char yaml[16384];
	size_t n = (size_t)snprintf(yaml, sizeof(yaml), BASE "scan:\n  rbl_files:\n");
	for (int i = 0; i < 66; i++)
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "    - {file: /z/%d}\n", i);
	n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "  dnsbl:\n");
	for (int i = 0; i < 66; i++)
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "    - {zone: z%d.test}\n", i);
	cr_assert_null(load(yaml));
	cr_assert_eq(errs.n, 2, "%zu errors", errs.n);
	cr_assert_str_eq(error(0), "69: scan.rbl_files[64]: more than 64 zone files");
	cr_assert_str_eq(error(1), "136: scan.dnsbl[64]: more than 64 zones");
}
