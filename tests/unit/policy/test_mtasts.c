/* MTA-STS records, policy files and MX matching (src/policy/mtasts.c,
 * RFC 8461 3.1, 3.2, 3.4; TLS-8). */
#include <criterion/criterion.h>

#include <string.h>

#include "policy/mtasts.h"

static bool txt(const char *s, char *id)
{
	return mtasts_txt_parse(s, strlen(s), id);
}

Test(mtasts_txt, takes_the_id)
{
	char id[MTASTS_ID_MAX + 1];
	cr_assert(txt("v=STSv1; id=20160831085700Z;", id));
	cr_assert_str_eq(id, "20160831085700Z");
	cr_assert(txt("v=STSv1;id=abc", id));
	cr_assert_str_eq(id, "abc");
	cr_assert(txt("v=STSv1 ; id = x1 ; ext_1.a=val ;", id), "white space and an extension field");
	cr_assert_str_eq(id, "x1");
}

Test(mtasts_txt, refuses_bad_records)
{
	char id[MTASTS_ID_MAX + 1];
	cr_assert_not(txt("v=STSv2; id=1;", id), "another version");
	cr_assert_not(txt("v=STSv1; id=;", id), "empty id");
	cr_assert_not(txt("v=STSv1; id=a-b;", id), "id is letters and digits only");
	cr_assert_not(txt("v=STSv1; id=123456789012345678901234567890123;", id), "id longer than 32");
	cr_assert_not(txt("v=STSv1;", id), "no id");
	cr_assert_not(txt("v=STSv1 id=1", id), "no ';' after the version");
	cr_assert_not(txt("id=1; v=STSv1;", id), "version not first");
	cr_assert_not(txt("v=STSv1; id=1; =x;", id), "an extension without a name");
}

Test(mtasts_txt, exactly_one_sts_record)
{
	char id[MTASTS_ID_MAX + 1];
	char *one[] = { "v=spf1 -all", "v=STSv1; id=a1;" };
	cr_assert(mtasts_txt_pick(one, 2, id));
	cr_assert_str_eq(id, "a1");
	char *two[] = { "v=STSv1; id=a1;", "v=STSv1; id=a2;" };
	cr_assert_not(mtasts_txt_pick(two, 2, id), "two STS records: no policy (3.1)");
	char *none[] = { "v=spf1 -all" };
	cr_assert_not(mtasts_txt_pick(none, 1, id));
	char *bad[] = { "v=STSv1; id=a_1;" };
	cr_assert_not(mtasts_txt_pick(bad, 1, id), "the one record is invalid");
}

static bool parse(const char *s, struct mtasts_policy *p, char *why)
{
	return mtasts_policy_parse(s, strlen(s), p, why, 200);
}

Test(mtasts_policy, parses_the_rfc_example)
{
	struct mtasts_policy p;
	char why[200] = "";
	cr_assert(parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
			"mx: backupmx.example.com\r\nmax_age: 604800\r\n", &p, why), "%s", why);
	cr_assert_eq(p.mode, MTASTS_ENFORCE);
	cr_assert_eq(p.max_age, 604800);
	cr_assert_eq(p.n_mx, 3);
	cr_assert_str_eq(p.mx[1], "*.example.net");
}

Test(mtasts_policy, lf_only_unknown_keys_and_first_of_a_repeat)
{
	struct mtasts_policy p;
	char why[200] = "";
	cr_assert(parse("version:STSv1\nmode: testing\nmode: enforce\nfoo: bar\nmx: MX.Example.COM\nmax_age: 86400",
			&p, why), "%s", why);
	cr_assert_eq(p.mode, MTASTS_TESTING);
	cr_assert_str_eq(p.mx[0], "mx.example.com", "stored lower case");
}

Test(mtasts_policy, max_age_is_capped_at_a_year)
{
	struct mtasts_policy p;
	char why[200] = "";
	cr_assert(parse("version: STSv1\nmode: none\nmax_age: 9999999999\n", &p, why), "%s", why);
	cr_assert_eq(p.max_age, MTASTS_MAX_AGE_MAX);
	cr_assert_eq(p.n_mx, 0, "mode none needs no mx");
}

Test(mtasts_policy, refuses_invalid_policies)
{
	struct mtasts_policy p;
	char why[200];
	cr_assert_not(parse("version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", &p, why));
	cr_assert_str_eq(why, "version is not STSv1");
	cr_assert_not(parse("version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n", &p, why));
	cr_assert_str_eq(why, "mode is not enforce, testing or none");
	cr_assert_not(parse("version: STSv1\nmode: enforce\nmax_age: 1\n", &p, why));
	cr_assert_str_eq(why, "no mx field");
	cr_assert_not(parse("version: STSv1\nmode: enforce\nmx: a.b\n", &p, why));
	cr_assert_str_eq(why, "no max_age field");
	cr_assert_not(parse("mode: enforce\nmx: a.b\nmax_age: 1\n", &p, why));
	cr_assert_str_eq(why, "no version field");
	cr_assert_not(parse("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 12345678901\n", &p, why),
		      "more than 10 digits");
	cr_assert_not(parse("version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1\n", &p, why));
	cr_assert_not(parse("version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n", &p, why));
	cr_assert_not(parse("version: STSv1\nmode: enforce\nmx: a.*.b\nmax_age: 1\n", &p, why));
	cr_assert_not(parse("<html>hello</html>\n", &p, why), "not a policy at all");
	char big[MTASTS_POLICY_SIZE_MAX + 2];
	memset(big, '\n', sizeof(big));
	cr_assert_not(mtasts_policy_parse(big, sizeof(big), &p, why, sizeof(why)), "over 64 KiB");
}

Test(mtasts_mx, exact_and_wildcard_per_3_4)
{
	struct mtasts_policy p;
	char why[200] = "";
	cr_assert(parse("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1\n", &p,
			why), "%s", why);
	cr_assert(mtasts_mx_match(&p, "mail.example.com"));
	cr_assert(mtasts_mx_match(&p, "MAIL.example.COM."), "case and a trailing dot");
	cr_assert_not(mtasts_mx_match(&p, "other.example.com"));
	cr_assert(mtasts_mx_match(&p, "mx1.example.net"));
	cr_assert_not(mtasts_mx_match(&p, "example.net"), "the wildcard needs a label");
	cr_assert_not(mtasts_mx_match(&p, "a.b.example.net"), "the wildcard is one label only");
	cr_assert_not(mtasts_mx_match(&p, "mx1.badexample.net"));
	cr_assert_not(mtasts_mx_match(&p, ""));
}
