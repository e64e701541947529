/* Next-hop parsing and route lookup (src/policy/route.c). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <string.h>

#include "policy/route.h"
#include "util/alloc.h"

Test(route_parse, smtp_with_port)
{
	struct route r = { 0 };
	const char *why = NULL;
	cr_assert(route_parse_nexthop("smtp://mx.internal.example:2525", &r, &why));
	cr_assert_eq(r.kind, ROUTE_SMTP);
	cr_assert_str_eq(r.host, "mx.internal.example");
	cr_assert_str_eq(r.port, "2525");
	cr_assert_null(r.path);
	cr_assert_str_eq(r.spec, "smtp://mx.internal.example:2525");
	route_free(&r);
}

Test(route_parse, default_ports)
{
	struct route r = { 0 };
	const char *why;
	cr_assert(route_parse_nexthop("smtp://10.0.0.5", &r, &why));
	cr_assert_str_eq(r.host, "10.0.0.5");
	cr_assert_str_eq(r.port, "25");
	route_free(&r);
	cr_assert(route_parse_nexthop("lmtp://dovecot", &r, &why));
	cr_assert_eq(r.kind, ROUTE_LMTP);
	cr_assert_str_eq(r.port, "24");
	route_free(&r);
}

Test(route_parse, ipv6_in_brackets)
{
	struct route r = { 0 };
	const char *why;
	cr_assert(route_parse_nexthop("smtp://[::1]:2525", &r, &why));
	cr_assert_str_eq(r.host, "::1");
	cr_assert_str_eq(r.port, "2525");
	route_free(&r);
	cr_assert(route_parse_nexthop("lmtp://[2001:db8::25]", &r, &why));
	cr_assert_str_eq(r.host, "2001:db8::25");
	cr_assert_str_eq(r.port, "24");
	route_free(&r);
}

Test(route_parse, maildir_paths)
{
	struct route r = { 0 };
	const char *why;
	cr_assert(route_parse_nexthop("maildir:/var/mail/example", &r, &why));
	cr_assert_eq(r.kind, ROUTE_MAILDIR);
	cr_assert_str_eq(r.path, "/var/mail/example");
	cr_assert_null(r.host);
	cr_assert_null(r.port);
	route_free(&r);
	cr_assert(route_parse_nexthop("maildir:maildir/example.test", &r, &why));
	cr_assert_str_eq(r.path, "maildir/example.test");
	route_free(&r);
	/* "..." and "..x" are names, not the parent directory */
	cr_assert(route_parse_nexthop("maildir:a/.../..x/x..", &r, &why));
	route_free(&r);
}

/* Issue 15: implicit TLS (RFC 8314) to a smart host or route, port 465 by default. */
Test(route_parse, smtps_is_smtp_over_implicit_tls)
{
	struct route r = { 0 };
	const char *why;
	cr_assert(route_parse_nexthop("smtps://relay.example.org", &r, &why));
	cr_assert_eq(r.kind, ROUTE_SMTP);
	cr_assert(r.implicit_tls);
	cr_assert_str_eq(r.host, "relay.example.org");
	cr_assert_str_eq(r.port, "465");
	route_free(&r);
	cr_assert(route_parse_nexthop("SMTPS://[::1]:2465", &r, &why));
	cr_assert(r.implicit_tls);
	cr_assert_str_eq(r.port, "2465");
	route_free(&r);
	cr_assert(route_parse_nexthop("smtp://relay.example.org:587", &r, &why));
	cr_assert_not(r.implicit_tls);
	route_free(&r);
}

Test(route_parse, scheme_is_case_insensitive)
{
	struct route r = { 0 };
	const char *why;
	cr_assert(route_parse_nexthop("SMTP://mx", &r, &why));
	cr_assert_eq(r.kind, ROUTE_SMTP);
	route_free(&r);
}

struct bad_spec {
	char spec[64];
	char why[80]; /* a word the reason must contain */
};

ParameterizedTestParameters(route_parse, refuses)
{
	static struct bad_spec cases[] = {
		{ "", "unknown scheme" },
		{ "mx.example.org", "unknown scheme" },
		{ "ftp://mx", "unknown scheme" },
		{ "smtp:mx", "unknown scheme" },
		{ " smtp://mx", "unknown scheme" },
		{ "smtp://", "missing host" },
		{ "smtps://", "missing host" },
		{ "smtps://user@relay", "unexpected" },
		{ "smtp://:25", "missing host" },
		{ "smtp://mx:", "port" },
		{ "smtp://mx:0", "port" },
		{ "smtp://mx:65536", "port" },
		{ "smtp://mx:025", "port" },
		{ "smtp://mx:+25", "port" },
		{ "smtp://mx:99999999999999999999", "port" },
		{ "smtp://mx:25x", "port" },
		{ "smtp://mx/path", "unexpected" },
		{ "smtp://user@mx", "unexpected" },
		{ "smtp://mx?x=1", "unexpected" },
		{ "smtp://::1", "brackets" },
		{ "smtp://[::1", "']'" },
		{ "smtp://[]", "IPv6" },
		{ "smtp://[mx]:25", "IPv6" },
		{ "smtp://[::1]x", "unexpected" },
		{ "smtp://mx_1", "host" },
		{ "smtp://-mx", "host" },
		{ "smtp://mx-", "host" },
		{ "smtp://a..b", "host" },
		{ "smtp://mx.", "host" },
		{ "smtp://mx .org", "host" },
		{ "maildir:", "empty" },
		{ "maildir:../x", ".." },
		{ "maildir:a/../x", ".." },
		{ "maildir:/a/..", ".." },
		{ "maildir:a\nb", "control" },
	};
	return cr_make_param_array(struct bad_spec, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_spec *bs, route_parse, refuses)
{
	struct route r = { 0 };
	const char *why = NULL;
	cr_assert_not(route_parse_nexthop(bs->spec, &r, &why), "accepted \"%s\"", bs->spec);
	cr_assert_not_null(why);
	cr_assert(strstr(why, bs->why), "\"%s\": reason \"%s\" lacks \"%s\"", bs->spec, why, bs->why);
	cr_assert_null(r.host);
	cr_assert_null(r.spec);
}

Test(route_parse, unknown_scheme_reason_names_the_choices)
{
	struct route r = { 0 };
	const char *why;
	cr_assert_not(route_parse_nexthop("http://x", &r, &why));
	cr_assert_str_eq(why, "unknown scheme (use smtp://, smtps://, lmtp:// or maildir:)");
}

Test(route_parse, overlong_spec)
{
	struct route r = { 0 };
	const char *why;
	char *big = xmalloc(10000);
	memcpy(big, "maildir:", 8);
	memset(big + 8, 'a', 10000 - 9);
	big[9999] = '\0';
	cr_assert_not(route_parse_nexthop(big, &r, &why));
	cr_assert(strstr(why, "too long"));
	free(big);
}

/* ---- lookup ---- */

static struct route table[] = {
	{ .domain = "example.org", .subdomains = false, .spec = "exact" },
	{ .domain = "example.org", .subdomains = true, .spec = "sub" },
	{ .domain = "deep.example.org", .subdomains = true, .spec = "deep" },
	{ .domain = "other.test", .subdomains = false, .spec = "other" },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

static const char *lookup(const char *domain)
{
	const struct route *r = route_lookup(table, NTABLE, domain, strlen(domain));
	return r ? r->spec : NULL;
}

Test(route_lookup, exact_beats_wildcard)
{
	cr_assert_str_eq(lookup("example.org"), "exact");
}

Test(route_lookup, wildcard_matches_subdomains_only)
{
	cr_assert_str_eq(lookup("a.example.org"), "sub");
	cr_assert_str_eq(lookup("b.a.example.org"), "sub");
	cr_assert_null(lookup("other.test.example"));
	cr_assert_null(lookup("sub.other.test"));
	cr_assert_null(lookup("notexample.org"));
	cr_assert_null(lookup(".example.org"));
}

Test(route_lookup, longest_wildcard_wins)
{
	cr_assert_str_eq(lookup("x.deep.example.org"), "deep");
	/* deep.example.org itself is only matched by the shorter wildcard */
	cr_assert_str_eq(lookup("deep.example.org"), "sub");
}

Test(route_lookup, longest_wins_regardless_of_order)
{
	struct route rev[] = {
		{ .domain = "deep.example.org", .subdomains = true, .spec = "deep" },
		{ .domain = "example.org", .subdomains = true, .spec = "sub" },
	};
	const struct route *r = route_lookup(rev, 2, "x.deep.example.org", 18);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->spec, "deep");
}

Test(route_lookup, case_insensitive)
{
	cr_assert_str_eq(lookup("EXAMPLE.Org"), "exact");
	cr_assert_str_eq(lookup("A.Example.ORG"), "sub");
	cr_assert_str_eq(lookup("OTHER.TEST"), "other");
}

Test(route_lookup, trailing_dot_does_not_match)
{
	cr_assert_null(lookup("example.org."));
	cr_assert_null(lookup("other.test."));
	cr_assert_null(lookup("a.example.org."));
}

Test(route_lookup, uses_len_not_nul)
{
	const struct route *r = route_lookup(table, NTABLE, "other.testXYZ", 10);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->spec, "other");
	cr_assert_null(route_lookup(table, NTABLE, "other.test\0x", 12));
	cr_assert_null(route_lookup(table, NTABLE, "", 0));
	cr_assert_null(route_lookup(table, 0, "example.org", 11));
}

Test(route_free, clears_fields)
{
	struct route r = { 0 };
	const char *why;
	cr_assert(route_parse_nexthop("smtp://mx", &r, &why));
	r.domain = xstrdup("example.org");
	route_free(&r);
	cr_assert_null(r.domain);
	cr_assert_null(r.host);
	cr_assert_null(r.port);
	cr_assert_null(r.spec);
}
