/* "mailwarden mta-sts policy" (src/ctl/mtastscmd.c, TLS-8): the policy it
 * prints parses as a valid policy naming the gateway, the TXT records as
 * valid records; and the outbound_tls.mta_sts keys load and are checked. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../config_file.h"
#include "ctl/mtastscmd.h"
#include "policy/mtasts.h"

TestSuite(mtastscmd, .fini = config_file_teardown);

#define BASE "hostname: mx.gw.test\nstate_dir: /tmp\n"

Test(mtastscmd, printed_policy_is_valid_and_names_the_gateway)
{
	cr_assert_not_null(load(BASE "local_domains: [example.test, .sub.test]\n"));
	char text[600], why[200] = "";
	size_t len = mtastscmd_policy_text(cfg, MTASTS_ENFORCE, 604800, text, sizeof(text));
	cr_assert_gt(len, 0);
	struct mtasts_policy p;
	cr_assert(mtasts_policy_parse(text, len, &p, why, sizeof(why)), "%s", why);
	cr_assert_eq(p.mode, MTASTS_ENFORCE);
	cr_assert_eq(p.max_age, 604800);
	cr_assert(mtasts_mx_match(&p, "mx.gw.test"));

	char out[4096] = "";
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");
	mtastscmd_print(f, cfg, MTASTS_TESTING, 86400, "20261207080000");
	fclose(f);
	cr_assert(strstr(out, "mode: testing\r\n"));
	const char *rec = strstr(out, "_mta-sts.example.test. IN TXT \"");
	cr_assert_not_null(rec, "%s", out);
	rec = strchr(rec, '"') + 1;
	char id[MTASTS_ID_MAX + 1];
	cr_assert(mtasts_txt_parse(rec, (size_t)(strchr(rec, '"') - rec), id));
	cr_assert_str_eq(id, "20261207080000");
	cr_assert(strstr(out, "sub.test (every subdomain): not covered"));
}

Test(mtastscmd, mta_sts_keys_load_and_are_bounded)
{
	cr_assert_not_null(load(BASE "outbound_tls:\n  mta_sts:\n    enabled: true\n    fetch_timeout_ms: 2500\n"
				    "    https_port: 8443\n"));
	cr_assert(cfg->outbound_tls.mta_sts.enabled);
	cr_assert_eq(cfg->outbound_tls.mta_sts.fetch_timeout_ms, 2500);
	cr_assert_eq(cfg->outbound_tls.mta_sts.https_port, 8443);
	cr_assert_null(load(BASE "outbound_tls:\n  mta_sts:\n    fetch_timeout_ms: 5\n"));
	cr_assert_eq(errs.n, 1);
	cr_assert(strstr(error(0), "5: outbound_tls.mta_sts.fetch_timeout_ms:"), "%s", error(0));
	(void)section;   /* config_file.h's other helper */
}
