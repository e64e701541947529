/* The names DKIM and DMARC need, worked out from a header section before
 * the checks run (content/authdns.h), and the tag-list reading they use
 * (RFC 6376 3.2). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "content/authdns.h"
#include "content/dmarclib.h"
#include "content/mime.h"

static void init(void)
{
	mime_prepare();
}

TestSuite(authdns, .init = init);

static bool org_last_two(const char *domain, char *out, size_t cap)
{
	const char *dot = strrchr(domain, '.');
	while (dot && dot > domain && dot[-1] != '.')
		dot--;
	snprintf(out, cap, "%s", dot && dot > domain ? dot : domain);
	return true;
}

static void plan(struct authdns *a, const char *hdr, bool dkim, bool dmarc)
{
	memset(a, 0, sizeof(*a));
	authdns_plan(a, hdr, strlen(hdr), dkim, dmarc, org_last_two);
}

Test(authdns, tags_are_read_with_white_space_anywhere)
{
	const char *list = "v=1; a=rsa-sha256;\r\n\td = example.org ; s=\r\n sel\r\n 1;b=abc";
	char out[64];
	cr_assert(authdns_tag(list, strlen(list), "d", out, sizeof(out)));
	cr_assert_str_eq(out, "example.org");
	cr_assert(authdns_tag(list, strlen(list), "s", out, sizeof(out)));
	cr_assert_str_eq(out, "sel1");
	cr_assert_not(authdns_tag(list, strlen(list), "x", out, sizeof(out)), "missing");
	cr_assert_not(authdns_tag("d=; s=x", 7, "d", out, sizeof(out)), "empty");
	cr_assert_not(authdns_tag("d=abcdef", 8, "d", out, 4), "does not fit");
	cr_assert_not(authdns_tag("bd=x", 4, "d", out, sizeof(out)), "another tag's suffix");
	cr_assert_not(authdns_tag("d=\0example.org", 15, "d", out, sizeof(out)), "a NUL byte (found by fuzz_authdns)");
}

Test(authdns, names_that_could_break_a_query_or_a_header_are_refused)
{
	cr_assert(authdns_name_ok("sel-1._domainkey.example.org"));
	const char *bad[] = { "", ".example.org", "example.org.", "a..b", "a b", "a;b", "a(b)", "exa\x80mple" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(authdns_name_ok(bad[i]), "%s", bad[i]);
}

Test(authdns, every_signature_key_and_both_dmarc_records_are_planned)
{
	struct authdns a;
	plan(&a,
	     "DKIM-Signature: v=1; d=Example.ORG;\r\n s=one; b=x\r\n"
	     "From: Someone <a@Mail.Example.org>\r\n"
	     "dkim-signature: v=1; d=list.test; s=two; b=y\r\n"
	     "DKIM-Signature: v=1; d=bad(domain); s=three\r\n"
	     "\r\n",
	     true, true);
	cr_assert_str_eq(a.from_domain, "mail.example.org");
	cr_assert_str_eq(a.org_domain, "example.org");
	cr_assert_eq(a.n, 4);
	cr_assert_not_null(authdns_find(&a, "one._domainkey.example.org"));
	cr_assert_not_null(authdns_find(&a, "two._domainkey.list.test"));
	cr_assert_not_null(authdns_find(&a, "_dmarc.mail.example.org"));
	cr_assert_not_null(authdns_find(&a, "_dmarc.example.org"));
	cr_assert_eq(authdns_find(&a, "one._domainkey.example.org")->status, DNS_TEMPFAIL, "until answered");
}

/* RFC 7489 6.6.1: no single author, no DMARC. */
Test(authdns, two_from_fields_or_two_authors_give_no_from_domain)
{
	struct authdns a;
	plan(&a, "From: a@x.test\r\nFrom: b@y.test\r\n\r\n", false, true);
	cr_assert_str_eq(a.from_domain, "");
	cr_assert_eq(a.n, 0);
	plan(&a, "From: a@x.test, b@y.test\r\n\r\n", false, true);
	cr_assert_str_eq(a.from_domain, "");
	plan(&a, "From: a@x.test\r\n\r\n", false, true);
	cr_assert_str_eq(a.from_domain, "x.test");
	cr_assert_eq(a.n, 1, "the organizational domain is the domain itself");
}

Test(authdns, signatures_beyond_the_limit_are_not_looked_up)
{
	char hdr[4096] = "";
	for (int i = 0; i < AUTHDNS_SIGNATURES_MAX + 3; i++) {
		char f[128];
		snprintf(f, sizeof(f), "DKIM-Signature: d=d%d.test; s=s\r\n", i);
		strcat(hdr, f);
	}
	struct authdns a;
	plan(&a, hdr, true, false);
	cr_assert_eq(a.n, AUTHDNS_SIGNATURES_MAX);
}

/* RFC 7489 3.2 with the public suffix list: co.uk is a suffix. */
Test(authdns, organizational_domains_follow_the_public_suffix_list)
{
	char out[256];
	if (!dmarclib_prepare(DMARCLIB_SUFFIX_FILE))
		cr_skip_test("no public suffix list");
	cr_assert(dmarclib_org_domain("mail.example.co.uk", out, sizeof(out)));
	cr_assert_str_eq(out, "example.co.uk");
	cr_assert(dmarclib_org_domain("a.b.example.com", out, sizeof(out)));
	cr_assert_str_eq(out, "example.com");
}
