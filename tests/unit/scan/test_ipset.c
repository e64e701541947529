/* The scanner's CIDR/range set: overlaps resolved narrowest-first,
 * exclusions, both families, the edges of the address space, and lists
 * read from files with hostile lines. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "scan/data.h"
#include "scan/ipset.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
	return ntohl(a.s_addr);
}

static bool has(const struct ipset *s, const char *text, uint32_t *value)
{
	struct sockaddr_storage ss = { 0 };
	if (strchr(text, ':')) {
		struct sockaddr_in6 *v6 = (void *)&ss;
		v6->sin6_family = AF_INET6;
		cr_assert_eq(inet_pton(AF_INET6, text, &v6->sin6_addr), 1);
	} else {
		struct sockaddr_in *v4 = (void *)&ss;
		v4->sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, text, &v4->sin_addr), 1);
	}
	return ipset_lookup(s, (struct sockaddr *)&ss, value);
}

Test(ipset, empty_set_contains_nothing)
{
	struct ipset *s = ipset_new();
	ipset_build(s);
	cr_assert_not(has(s, "0.0.0.0", NULL));
	cr_assert_not(has(s, "255.255.255.255", NULL));
	cr_assert_not(has(s, "::1", NULL));
	cr_assert_eq(ipset_ranges(s), 0);
	ipset_free(s);
}

Test(ipset, narrowest_range_wins_regardless_of_order)
{
	struct ipset *s = ipset_new();
	ipset_add4(s, ip("10.1.2.3"), ip("10.1.2.3"), 3);
	ipset_add4(s, ip("10.0.0.0"), ip("10.255.255.255"), 1);
	ipset_add4(s, ip("10.1.0.0"), ip("10.1.255.255"), 2);
	ipset_build(s);
	uint32_t v;
	cr_assert(has(s, "10.0.0.0", &v) && v == 1);
	cr_assert(has(s, "10.1.0.0", &v) && v == 2);
	cr_assert(has(s, "10.1.2.2", &v) && v == 2);
	cr_assert(has(s, "10.1.2.3", &v) && v == 3);
	cr_assert(has(s, "10.1.2.4", &v) && v == 2);
	cr_assert(has(s, "10.2.0.0", &v) && v == 1);
	cr_assert(has(s, "10.255.255.255", &v) && v == 1);
	cr_assert_not(has(s, "11.0.0.0", NULL));
	cr_assert_not(has(s, "9.255.255.255", NULL));
	ipset_free(s);
}

Test(ipset, exclusion_punches_a_hole)
{
	struct ipset *s = ipset_new();
	ipset_add4(s, 0, UINT32_MAX, 7);  /* 0.0.0.0/0 */
	ipset_add4(s, ip("192.0.2.5"), ip("192.0.2.5"), IPSET_EXCLUDE);
	ipset_build(s);
	cr_assert(has(s, "0.0.0.0", NULL));
	cr_assert(has(s, "192.0.2.4", NULL));
	cr_assert_not(has(s, "192.0.2.5", NULL));
	cr_assert(has(s, "192.0.2.6", NULL));
	cr_assert(has(s, "255.255.255.255", NULL));
	cr_assert_eq(ipset_ranges(s), 2);
	ipset_free(s);
}

Test(ipset, partial_overlaps_and_adjacent_ranges)
{
	struct ipset *s = ipset_new();
	ipset_add4(s, 100, 200, 1);
	ipset_add4(s, 150, 300, 2);   /* narrower than 100..200? no: 151 vs 101 wide */
	ipset_add4(s, 301, 400, 2);   /* adjacent, same value: merged */
	ipset_build(s);
	uint32_t v;
	cr_assert(ipset_lookup4(s, 100, &v) && v == 1);
	cr_assert(ipset_lookup4(s, 149, &v) && v == 1);
	cr_assert(ipset_lookup4(s, 150, &v) && v == 1);  /* 100..200 (101 wide) beats 150..300 (151) */
	cr_assert(ipset_lookup4(s, 200, &v) && v == 1);
	cr_assert(ipset_lookup4(s, 201, &v) && v == 2);
	cr_assert(ipset_lookup4(s, 400, &v) && v == 2);
	cr_assert_not(ipset_lookup4(s, 401, NULL));
	cr_assert_eq(ipset_ranges(s), 2);
	ipset_free(s);
}

Test(ipset, equal_ranges_the_last_added_wins)
{
	struct ipset *s = ipset_new();
	ipset_add4(s, 5, 5, 1);
	ipset_add4(s, 5, 5, 9);
	ipset_build(s);
	uint32_t v;
	cr_assert(ipset_lookup4(s, 5, &v) && v == 9);
	ipset_free(s);
}

Test(ipset, reversed_range_is_ignored)
{
	struct ipset *s = ipset_new();
	ipset_add4(s, 10, 5, 1);
	ipset_build(s);
	cr_assert_eq(ipset_ranges(s), 0);
	ipset_free(s);
}

Test(ipset, ipv6_and_ipv4_mapped)
{
	struct ipset *s = ipset_new();
	unsigned char lo[16], hi[16];
	inet_pton(AF_INET6, "2001:db8::", lo);
	inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", hi);
	ipset_add6(s, lo, hi, 4);
	ipset_add4(s, ip("192.0.2.0"), ip("192.0.2.255"), 5);
	ipset_build(s);
	uint32_t v;
	cr_assert(has(s, "2001:db8::1", &v) && v == 4);
	cr_assert(has(s, "2001:db8:ffff::", &v) && v == 4);
	cr_assert_not(has(s, "2001:db9::", NULL));
	cr_assert_not(has(s, "2001:db7:ffff::", NULL));
	cr_assert(has(s, "::ffff:192.0.2.7", &v) && v == 5);
	cr_assert_not(has(s, "::ffff:192.0.3.7", NULL));
	ipset_free(s);
}

Test(ipset, many_nested_ranges_stay_correct)
{
	/* 0.0.0.0/0 down to /32 around one address: 33 nested ranges. */
	struct ipset *s = ipset_new();
	uint32_t a = ip("203.0.113.77");
	for (unsigned p = 0; p <= 32; p++) {
		uint32_t mask = p == 0 ? 0 : ~(uint32_t)0 << (32 - p);
		ipset_add4(s, a & mask, (a & mask) | ~mask, p);
	}
	ipset_build(s);
	uint32_t v;
	cr_assert(ipset_lookup4(s, a, &v) && v == 32);
	cr_assert(ipset_lookup4(s, a ^ 1, &v) && v == 31);
	cr_assert(ipset_lookup4(s, a ^ 0x80000000u, &v) && v == 0);
	cr_assert(ipset_lookup4(s, a ^ 0x100, &v) && v == 23);
	ipset_free(s);
}

Test(ipset, cidr_file_skips_hostile_lines)
{
	const char text[] = "# comment\n"
			    "192.0.2.0/24\n"
			    "  198.51.100.7   # host\n"
			    "10.0.0.1/8\n"          /* host bits: refused */
			    "300.1.1.1\n"
			    "1.2.3.4/33\n"
			    "2001:db8::/32\r\n"
			    "\x01\x02\xff\n"
			    "99999999999999999999999\n"
			    "\n"
			    "::/129";
	size_t bad;
	struct ipset *s = scan_data_cidr_file("test", text, sizeof(text) - 1, &bad);
	cr_assert_eq(bad, 6);
	cr_assert(has(s, "192.0.2.200", NULL));
	cr_assert(has(s, "198.51.100.7", NULL));
	cr_assert_not(has(s, "198.51.100.8", NULL));
	cr_assert_not(has(s, "10.0.0.1", NULL));
	cr_assert(has(s, "2001:db8:1::", NULL));
	ipset_free(s);
}

/* Found by fuzz_cidr (issue 14): "::ffff:a.b.c.d" went into the IPv6
 * ranges, which IPv4 clients never meet, so a deny entry written that way
 * matched nobody. cidr_contains() matches it for IPv4 clients; so must
 * the list files. */
Test(ipset, cidr_file_v4mapped_lines_match_ipv4_clients)
{
	static const char text[] = "::ffff:192.0.2.1\n::ffff:198.51.100.0/120\n::/0\n";
	size_t bad;
	struct ipset *s = scan_data_cidr_file("test", text, sizeof(text) - 1, &bad);
	cr_assert_eq(bad, 0);
	cr_assert(has(s, "192.0.2.1", NULL));
	cr_assert(has(s, "::ffff:192.0.2.1", NULL));
	cr_assert(has(s, "198.51.100.99", NULL));
	cr_assert_not(has(s, "192.0.2.2", NULL));
	cr_assert_not(has(s, "10.0.0.1", NULL));  /* ::/0 stays IPv6: IPv4 clients do not fall into it */
	ipset_free(s);
}

Test(ipset, disjoint_input_takes_the_fast_path_and_merges_neighbours)
{
	struct ipset *s = ipset_new();
	ipset_add4(s, 30, 39, 1);
	ipset_add4(s, 10, 19, 1);
	ipset_add4(s, 20, 29, 1);                  /* adjacent, same value: one range */
	ipset_add4(s, 40, 40, 2);                  /* adjacent, other value: its own */
	ipset_add4(s, 50, 50, IPSET_EXCLUDE);      /* excludes nothing: dropped */
	ipset_add4(s, UINT32_MAX, UINT32_MAX, 3);  /* the last address */
	ipset_build(s);
	cr_assert_eq(ipset_ranges(s), 3);
	uint32_t v;
	cr_assert(ipset_lookup4(s, 10, &v) && v == 1);
	cr_assert(ipset_lookup4(s, 39, &v) && v == 1);
	cr_assert(ipset_lookup4(s, 40, &v) && v == 2);
	cr_assert_not(ipset_lookup4(s, 41, NULL));
	cr_assert_not(ipset_lookup4(s, 50, NULL));
	cr_assert(ipset_lookup4(s, UINT32_MAX, &v) && v == 3);
	cr_assert_not(ipset_lookup4(s, 9, NULL));
	ipset_free(s);
}
