/* scan.attachments (issue 12, SCAN-7): the forbidden classes and
 * extensions as loaded, the default when the key is absent, the check
 * refusing by default in both directions, and every error named with
 * file, line and key. */
#include "../config_file.h"

#include "content/attach_class.h"
#include "content/check.h"
#include "scan/config_attachments.h"
#include "scan/policy.h"

TestSuite(attachments, .fini = config_file_teardown);

Test(attachments, classes_and_extensions_as_written)
{
	cr_assert_not_null(section("scan"), "the scan section parses attachments");
	load("scan:\n  attachments:\n    forbid_classes: [executable, archive, encrypted]\n"
	     "    forbid_extensions: [zip, .ISO]\n");
	cr_assert_not_null(cfg, "%zu errors: %s", errs.n, errs.n ? errs.items[0] : "");
	const struct scan_attachments *a = cfg->scan->attachments;
	cr_assert_not_null(a);
	cr_assert_eq(a->forbid_classes, ATTACH_CLASS_EXECUTABLE | ATTACH_CLASS_ARCHIVE | ATTACH_CLASS_ENCRYPTED);
	cr_assert_eq(a->n_forbid_extensions, 2);
	cr_assert_str_eq(a->forbid_extensions[0], "zip");
	cr_assert_str_eq(a->forbid_extensions[1], "iso");
}

Test(attachments, default_refuses_in_both_directions)
{
	load("scan:\n  attachments: {forbid_extensions: [zip]}\n");
	cr_assert_not_null(cfg);
	cr_assert_eq(cfg->scan->attachments->forbid_classes, ATTACH_CLASS_DEFAULT_FORBIDDEN);
	int i = content_check_index("attachments", strlen("attachments"));
	cr_assert_geq(i, 0);
	cr_assert_eq(cfg->scan->inbound.content[i].action, SCAN_CHECK_REFUSE);
	cr_assert_eq(cfg->scan->outbound.content[i].action, SCAN_CHECK_REFUSE);
	load("scan:\n  inbound:\n    checks: {attachments: {action: score, points: 4}}\n");
	cr_assert_not_null(cfg);
	cr_assert_null(cfg->scan->attachments, "no key: the check's built-in defaults");
	cr_assert_eq(cfg->scan->inbound.content[i].action, SCAN_CHECK_SCORE);
	cr_assert_eq(cfg->scan->inbound.content[i].points, 400);
}

Test(attachments, errors_name_line_and_key)
{
	load("scan:\n  attachments:\n    forbid_classes: [executable, binaries]\n"
	     "    forbid_extensions: [\"ex e\"]\n    forbid: [zip]\n");
	cr_assert_null(cfg);
	cr_assert_eq(errs.n, 3, "%zu errors", errs.n);
	cr_assert(strstr(error(0), "3: scan.attachments.forbid_classes[1]: unknown class") == error(0), "%s",
		  error(0));
	cr_assert(strstr(error(1), "4: scan.attachments.forbid_extensions[0]: not a file extension") == error(1),
		  "%s", error(1));
	cr_assert(strstr(error(2), "5: scan.attachments.forbid: unknown key") == error(2), "%s", error(2));
}
