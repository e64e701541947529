/* The TLS-RPT TXT record (src/policy/tlsrpt_record.c, RFC 8460 3; TLS-8):
 * exactly one v=TLSRPTv1 record, its rua= mailto: addresses. */
#include <criterion/criterion.h>

#include <string.h>

#include "policy/tlsrpt_record.h"

static bool pick1(const char *txt, struct tlsrpt_record *r, char *why)
{
	char *texts[] = { (char *)txt };
	return tlsrpt_record_pick(texts, 1, r, why, 200);
}

Test(tlsrpt_record, takes_the_mailto_addresses)
{
	struct tlsrpt_record r;
	char why[200];
	cr_assert(pick1("v=TLSRPTv1; rua=mailto:reports@example.com", &r, why), "%s", why);
	cr_assert_eq(r.n_mailto, 1);
	cr_assert_str_eq(r.mailto[0], "reports@example.com");
	cr_assert(pick1("v=TLSRPTv1;rua=mailto:a@x.test,mailto:b.c@y.test?subject=x , https://r.test/", &r, why));
	cr_assert_eq(r.n_mailto, 2);
	cr_assert_str_eq(r.mailto[0], "a@x.test");
	cr_assert_eq(r.n_https, 1);
	cr_assert(pick1("v=TLSRPTv1 ; ext=1; rua=MAILTO:r%2Bt@x.test;", &r, why), "an extension field, %%-encoding");
	cr_assert_str_eq(r.mailto[0], "r+t@x.test");
}

Test(tlsrpt_record, refuses_what_is_not_one_usable_record)
{
	struct tlsrpt_record r;
	char why[200];
	cr_assert_not(pick1("v=TLSRPTv2; rua=mailto:a@x.test", &r, why));
	cr_assert_not(pick1("rua=mailto:a@x.test; v=TLSRPTv1", &r, why), "version not first");
	cr_assert_not(pick1("v=TLSRPTv1 rua=mailto:a@x.test", &r, why), "no ';' after the version");
	cr_assert_not(pick1("v=TLSRPTv1;", &r, why));
	cr_assert_str_eq(why, "record without rua=");
	cr_assert_not(pick1("v=TLSRPTv1; rua=https://reports.test/v1", &r, why));
	cr_assert(strstr(why, "https"), "%s", why);
	cr_assert_not(pick1("v=TLSRPTv1; rua=mailto:a b@x.test,mailto:<c@x.test>,mailto:%0a@x.test", &r, why),
		      "spaces, brackets, controls: no address");
	cr_assert_not(pick1("v=TLSRPTv1; rua=mailto:nobody", &r, why), "no @");

	char *two[] = { "v=TLSRPTv1; rua=mailto:a@x.test", "v=spf1 -all", "v=TLSRPTv1; rua=mailto:b@x.test" };
	cr_assert_not(tlsrpt_record_pick(two, 3, &r, why, sizeof(why)), "two records: none (RFC 8460 3)");
	cr_assert(tlsrpt_record_pick(two, 2, &r, why, sizeof(why)), "other TXT records are ignored");
}
