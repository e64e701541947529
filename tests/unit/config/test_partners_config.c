/*
 * The known partners' settings (SCAN-11, config/partners.c): defaults,
 * the allow list lowered, every bad entry named by file line and key.
 */
#include "../config_file.h"

TestSuite(partners_config, .fini = config_file_teardown);

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && strcmp(s + n - t, tail) == 0;
}

Test(partners_config, defaults_a_file_in_the_spool_180_days_and_a_text)
{
	cr_assert_not_null(load("hostname: mx.example.test\n"));
	cr_assert(ends_with(cfg->emergency.partners.file, "/spool/partners.db"));
	cr_assert_eq(cfg->emergency.partners.max_age, 180u * 86400u);
	cr_assert_not_null(cfg->emergency.partners.text);
	cr_assert_eq(cfg->emergency.partners.n_allow, 0);
	cr_assert_null(section("emergency"), "emergency.partners is config/'s own, not a registered section");
}

Test(partners_config, keys_and_allow_list_are_read_and_lowered)
{
	cr_assert_not_null(load("emergency:\n  partners:\n    file: /var/tmp/p.db\n    max_age: 2h\n"
				"    text: known partners only\n    allow: [Bank.TEST, Auditor@Firm.test]\n"));
	cr_assert_str_eq(cfg->emergency.partners.file, "/var/tmp/p.db");
	cr_assert_eq(cfg->emergency.partners.max_age, 7200u);
	cr_assert_str_eq(cfg->emergency.partners.text, "known partners only");
	cr_assert_eq(cfg->emergency.partners.n_allow, 2);
	cr_assert_str_eq(cfg->emergency.partners.allow[0], "bank.test");
	cr_assert_str_eq(cfg->emergency.partners.allow[1], "auditor@firm.test");
}

Test(partners_config, bad_values_name_line_and_key)
{
	cr_assert_null(load("emergency:\n  partners:\n    max_age: 1m\n"
			    "    allow: [ok.test, \"a b@x.test\", \"x@\"]\n    text: \"a\\r\\nb\"\n"));
	cr_assert_eq(errs.n, 4);
	cr_assert_str_eq(error(0), "3: emergency.partners.max_age: must be between 1h and 3650d");
	cr_assert_str_eq(error(1), "4: emergency.partners.allow[1]: the local part must be printable ASCII without spaces");
	cr_assert_str_eq(error(2), "4: emergency.partners.allow[2]: empty domain name");
	cr_assert_str_eq(error(3), "5: emergency.partners.text: reply text must be printable ASCII");
}
