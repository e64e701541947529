/* CIDR parsing and membership (src/net/cidr.c). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net/cidr.h"

static bool parse(const char *s, struct cidr *c)
{
	return cidr_parse(s, strlen(s), c);
}

/* A sockaddr for a numeric address, v4 or v6. */
static struct sockaddr_storage sa(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		cr_assert_fail("bad test address %s", text);
	return ss;
}

static bool contains(const char *net, const char *addr)
{
	struct cidr c;
	cr_assert(parse(net, &c), "cannot parse %s", net);
	struct sockaddr_storage ss = sa(addr);
	return cidr_contains(&c, (struct sockaddr *)&ss);
}

Test(cidr, parses_ipv4_network)
{
	struct cidr c;
	cr_assert(parse("192.0.2.0/24", &c));
	cr_assert_eq(c.family, AF_INET);
	cr_assert_eq(c.prefix, 24);
	cr_assert_eq(c.addr[0], 192);
	cr_assert_eq(c.addr[2], 2);
	cr_assert_eq(c.addr[3], 0);
}

Test(cidr, bare_address_is_host_route)
{
	struct cidr c;
	cr_assert(parse("192.0.2.7", &c));
	cr_assert_eq(c.prefix, 32);
	cr_assert(parse("2001:db8::1", &c));
	cr_assert_eq(c.family, AF_INET6);
	cr_assert_eq(c.prefix, 128);
}

Test(cidr, parses_ipv6_network)
{
	struct cidr c;
	cr_assert(parse("2001:db8::/32", &c));
	cr_assert_eq(c.family, AF_INET6);
	cr_assert_eq(c.prefix, 32);
	cr_assert_eq(c.addr[0], 0x20);
	cr_assert_eq(c.addr[3], 0xb8);
}

Test(cidr, zero_prefix_is_everything)
{
	struct cidr c;
	cr_assert(parse("0.0.0.0/0", &c));
	cr_assert_eq(c.prefix, 0);
	cr_assert(parse("::/0", &c));
	cr_assert_eq(c.prefix, 0);
	cr_assert(contains("0.0.0.0/0", "203.0.113.9"));
	cr_assert(contains("::/0", "2001:db8::5"));
}

struct bad_case {
	char text[80];
};

ParameterizedTestParameters(cidr, refuses)
{
	static struct bad_case cases[] = {
		{ "" }, { "/24" }, { "10.0.0.0/" }, { " 10.0.0.0/8" }, { "10.0.0.0/8 " },
		{ "10.0.0.0 /8" }, { "10.0.0.0/ 8" }, { "10.0.0.0/08" }, { "10.0.0.0/+8" },
		{ "10.0.0.0/-8" }, { "10.0.0.0/33" }, { "10.0.0.0/8/8" }, { "10.0.0.1/8" },
		{ "10.0.0.0/0x8" }, { "10.0.0" }, { "10.0.0.0.0" }, { "010.0.0.0/8" },
		{ "256.0.0.0/8" }, { "2001:db8::/129" }, { "2001:db8::1/32" }, { "fe80::1%eth0" },
		{ "example.org" }, { "10.0.0.0/1000" }, { "::1/0128" }, { "1.2.3.4/32a" },
		{ "10.0.0.0/8\n" },
	};
	return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *bc, cidr, refuses)
{
	struct cidr c = { .family = 12345 };
	cr_assert_not(parse(bc->text, &c), "accepted \"%s\"", bc->text);
	cr_assert_eq(c.family, 12345, "output touched on failure");
}

Test(cidr, refuses_embedded_nul_and_overlong)
{
	struct cidr c;
	cr_assert_not(cidr_parse("10.0.0.0\0/8", 11, &c));
	cr_assert_not(cidr_parse("10.0.0.0/8\0", 11, &c));
	char big[200];
	memset(big, '1', sizeof(big));
	cr_assert_not(cidr_parse(big, sizeof(big), &c));
}

Test(cidr, uses_only_len_bytes)
{
	struct cidr c;
	/* "10.0.0.0/8" followed by garbage that is not part of the text */
	cr_assert(cidr_parse("10.0.0.0/8XYZ", 10, &c));
	cr_assert_eq(c.prefix, 8);
}

Test(cidr, ipv4_membership)
{
	cr_assert(contains("10.0.0.0/8", "10.255.1.2"));
	cr_assert_not(contains("10.0.0.0/8", "11.0.0.1"));
	cr_assert(contains("192.0.2.128/25", "192.0.2.200"));
	cr_assert_not(contains("192.0.2.128/25", "192.0.2.127"));
	cr_assert(contains("192.0.2.7", "192.0.2.7"));
	cr_assert_not(contains("192.0.2.7", "192.0.2.6"));
}

Test(cidr, ipv6_membership)
{
	cr_assert(contains("2001:db8::/32", "2001:db8:ffff::1"));
	cr_assert_not(contains("2001:db8::/32", "2001:db9::1"));
	cr_assert(contains("2001:db8::/33", "2001:db8:7fff::1"));
	cr_assert_not(contains("2001:db8::/33", "2001:db8:8000::1"));
	cr_assert(contains("::1/128", "::1"));
	cr_assert_not(contains("::1/128", "::2"));
}

Test(cidr, families_do_not_mix)
{
	cr_assert_not(contains("::/0", "192.0.2.1"));
	cr_assert_not(contains("0.0.0.0/0", "2001:db8::1"));
}

Test(cidr, v4_mapped_client_matches_ipv4_network)
{
	cr_assert(contains("127.0.0.1/32", "::ffff:127.0.0.1"));
	cr_assert(contains("10.0.0.0/8", "::ffff:10.9.8.7"));
	cr_assert_not(contains("10.0.0.0/8", "::ffff:11.0.0.1"));
	/* only the ::ffff:0:0/96 block is mapped; ::10.0.0.1 (deprecated compatible form) is not */
	cr_assert_not(contains("10.0.0.0/8", "::10.0.0.1"));
}

Test(cidr, ipv4_client_matches_mapped_ipv6_network)
{
	cr_assert(contains("::ffff:10.0.0.0/104", "10.1.2.3"));
	cr_assert_not(contains("::ffff:10.0.0.0/104", "11.1.2.3"));
}

Test(cidr, other_families_never_match)
{
	struct cidr c;
	struct sockaddr_storage ss;
	cr_assert(parse("0.0.0.0/0", &c));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	cr_assert_not(cidr_contains(&c, (struct sockaddr *)&ss));
	cr_assert_not(cidr_contains(&c, NULL));
}

Test(cidr, list_add_contains_free)
{
	struct cidr_list l = { NULL, 0 };
	struct cidr c;
	struct sockaddr_storage a = sa("192.0.2.9"), b = sa("2001:db8::9"), d = sa("198.51.100.1");

	cr_assert_not(cidr_list_contains(&l, (struct sockaddr *)&a));
	for (int i = 0; i < 100; i++) {
		char text[32];
		snprintf(text, sizeof(text), "10.%d.0.0/16", i);
		cr_assert(parse(text, &c));
		cidr_list_add(&l, &c);
	}
	cr_assert(parse("192.0.2.0/24", &c));
	cidr_list_add(&l, &c);
	cr_assert(parse("2001:db8::/32", &c));
	cidr_list_add(&l, &c);
	cr_assert_eq(l.n, 102);
	cr_assert(cidr_list_contains(&l, (struct sockaddr *)&a));
	cr_assert(cidr_list_contains(&l, (struct sockaddr *)&b));
	cr_assert_not(cidr_list_contains(&l, (struct sockaddr *)&d));
	cr_assert_eq(l.items[57].addr[1], 57);
	cidr_list_free(&l);
	cr_assert_null(l.items);
	cr_assert_eq(l.n, 0);
}

Test(cidr, v4_mapped_client_is_an_ipv4_client)
{
	/* the same client must get the same answer on a v4 and a dual-stack socket */
	cr_assert_not(contains("::/0", "::ffff:192.0.2.1"));
	cr_assert_not(contains("::/96", "::ffff:192.0.2.1"));
	cr_assert(contains("0.0.0.0/0", "::ffff:192.0.2.1"));
	cr_assert(contains("::ffff:0.0.0.0/96", "::ffff:192.0.2.1"));
	cr_assert(contains("::ffff:0.0.0.0/96", "192.0.2.1"));
}
