/* scan.encryption and scan.malware_alarm (issue 12, SCAN-9, SCAN-10;
 * scan/config_encryption.c): defaults, the four words, exempt partners,
 * and errors that name file, line and key. */
#include <criterion/criterion.h>

#include <string.h>

#include "../config_file.h"
#include "content/check.h"
#include "scan/policy.h"

TestSuite(scan_encryption, .fini = config_file_teardown);

#define BASE "hostname: mx.test\nstate_dir: /tmp\n"

static enum scan_check_action check_action(const struct scan_direction *d)
{
	return d->content[content_check_index("encryption", 10)].action;
}

Test(scan_encryption, default_is_tag_and_the_check_runs_only_where_scanning_is_configured)
{
	cr_assert_not_null(section("scan"));
	cr_assert_not_null(load(BASE "scan: {}\n"));
	cr_assert_null(cfg->scan->encryption);
	cr_assert_eq(scan_encryption_action_for(NULL, false, "a@b.test", NULL, 0, true), SCAN_ENCRYPTION_TAG);
	cr_assert_eq(check_action(&cfg->scan->inbound), SCAN_CHECK_OFF);
	cr_assert_not_null(load(BASE "scan: {yara: {rules: /tmp}}\n"));
	cr_assert_eq(check_action(&cfg->scan->inbound), SCAN_CHECK_SCORE);
	cr_assert_eq(check_action(&cfg->scan->outbound), SCAN_CHECK_SCORE);
	cr_assert_not_null(load(BASE "scan: {encryption: {}}\n"));
	cr_assert_eq(check_action(&cfg->scan->inbound), SCAN_CHECK_SCORE);
	cr_assert_eq(cfg->scan->encryption->inbound, SCAN_ENCRYPTION_TAG);
	cr_assert_eq(cfg->scan->encryption->outbound, SCAN_ENCRYPTION_TAG);
}

Test(scan_encryption, words_per_direction_and_exempt_partners)
{
	cr_assert_not_null(load(BASE "scan:\n  encryption:\n    inbound: refuse\n    outbound: quarantine\n"
				     "    exempt: [Partner.Test, '@other.test', Bob@Example.Test]\n"),
			   "%s", errs.n ? errs.items[0] : "");
	const struct scan_encryption *e = cfg->scan->encryption;
	cr_assert_eq(e->inbound, SCAN_ENCRYPTION_REFUSE);
	cr_assert_eq(e->outbound, SCAN_ENCRYPTION_QUARANTINE);
	cr_assert_eq(e->n_exempt, 3);
	cr_assert_str_eq(e->exempt[0], "partner.test");
	cr_assert_str_eq(e->exempt[1], "other.test");
	cr_assert(scan_encryption_exempt(e, "anyone@partner.test"));
	cr_assert(scan_encryption_exempt(e, "x@mail.PARTNER.test"), "subdomains too");
	cr_assert_not(scan_encryption_exempt(e, "x@notpartner.test"));
	cr_assert(scan_encryption_exempt(e, "bob@example.test"));
	cr_assert_not(scan_encryption_exempt(e, "alice@example.test"));
	cr_assert_not(scan_encryption_exempt(e, ""));

	const char *partners[] = { "a@partner.test", "b@other.test" }, *mixed[] = { "a@partner.test", "c@x.test" };
	cr_assert_eq(scan_encryption_action_for(e, false, "s@x.test", NULL, 0, true), SCAN_ENCRYPTION_REFUSE);
	cr_assert_eq(scan_encryption_action_for(e, true, "s@x.test", NULL, 0, true), SCAN_ENCRYPTION_QUARANTINE);
	cr_assert_eq(scan_encryption_action_for(e, false, "s@partner.test", mixed, 2, true), SCAN_ENCRYPTION_ALLOW);
	cr_assert_eq(scan_encryption_action_for(e, true, "me@x.test", partners, 2, true), SCAN_ENCRYPTION_ALLOW);
	cr_assert_eq(scan_encryption_action_for(e, true, "me@x.test", mixed, 2, true), SCAN_ENCRYPTION_QUARANTINE,
		     "one recipient who is not a partner");
	cr_assert_eq(scan_encryption_action_for(e, true, "me@x.test", partners, 2, false), SCAN_ENCRYPTION_QUARANTINE,
		     "recipients not all listed");
}

Test(scan_encryption, errors_name_line_and_key)
{
	cr_assert_null(load(BASE "scan:\n  encryption:\n    inbound: drop\n    exempt: [\"a b@x\", ok.test]\n"
				 "    colour: red\n  malware_alarm: {from: nobody, interval: 0}\n"));
	cr_assert_eq(errs.n, 6, "%zu errors: every one is reported", errs.n);
	cr_assert_str_eq(error(0), "5: scan.encryption.inbound: must be one of: allow, tag, quarantine, refuse");
	cr_assert(strstr(error(1), "6: scan.encryption.exempt[0]: \"a b@x\": not a mailbox") == error(1), "%s",
		  error(1));
	cr_assert_str_eq(error(2), "7: scan.encryption.colour: unknown key (inbound, outbound, exempt)");
	cr_assert(strstr(error(3), "8: scan.malware_alarm.from: \"nobody\": not a mailbox") == error(3), "%s", error(3));
	cr_assert(strstr(error(4), "8: scan.malware_alarm.interval: must be a duration") == error(4), "%s", error(4));
	cr_assert_str_eq(error(5), "8: scan.malware_alarm: to is required (the administrator's mailbox)");
}

Test(scan_encryption, malware_alarm_defaults)
{
	cr_assert_not_null(load(BASE "scan:\n  malware_alarm: {to: Sec@Example.Test}\n"));
	cr_assert_str_eq(cfg->scan->malware_alarm->to, "sec@example.test");
	cr_assert_null(cfg->scan->malware_alarm->from);
	cr_assert_eq(cfg->scan->malware_alarm->interval, 3600);
	cr_assert_not_null(load(BASE "scan:\n  malware_alarm: {to: a@b.test, interval: 15m, from: mw@b.test}\n"));
	cr_assert_eq(cfg->scan->malware_alarm->interval, 900);
	cr_assert_null(load(BASE "scan:\n  malware_alarm: {from: mw@b.test}\n"));
	cr_assert_str_eq(error(0), "4: scan.malware_alarm: to is required (the administrator's mailbox)");
}
