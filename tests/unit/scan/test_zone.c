/* rbldnsd ip4set zone files, with hostile input: every bad line is
 * counted and skipped, never fatal, never over-read. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "scan/zone.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
	return ntohl(a.s_addr);
}

static struct zone *parse(const char *text, struct zone_stats *st)
{
	return zone_parse(text, strlen(text), st);
}

Test(zone, entry_forms_and_values)
{
	struct zone_stats st;
	struct zone *z = parse("$SOA 3600 ns.example. hostmaster.example. 1 1 1 1 1\n"
			       "$TTL 60\n"
			       ":127.0.0.2:Listed: see https://bl.example/?$\n"
			       "# comment\n; comment\n"
			       "192.0.2.1\n"
			       "198.51.100.0/24 :127.0.0.3:Dialup\n"
			       "203.0.113\n"
			       "10.1\n"
			       "172.16.0.5-172.16.0.9\n"
			       "172.16.1.5-7 :4\n"
			       "!198.51.100.99\n", &st);
	cr_assert_eq(st.bad_lines, 0, "first bad line %zu", st.first_bad_line);
	const char *a, *txt;
	cr_assert(zone_lookup4(z, ip("192.0.2.1"), &a, &txt));
	cr_assert_str_eq(a, "127.0.0.2");
	cr_assert_str_eq(txt, "Listed: see https://bl.example/?$");
	cr_assert(zone_lookup4(z, ip("198.51.100.7"), &a, &txt));
	cr_assert_str_eq(a, "127.0.0.3");
	cr_assert_str_eq(txt, "Dialup");
	cr_assert_not(zone_lookup4(z, ip("198.51.100.99"), NULL, NULL));
	cr_assert(zone_lookup4(z, ip("203.0.113.255"), NULL, NULL));
	cr_assert(zone_lookup4(z, ip("10.1.200.3"), NULL, NULL));
	cr_assert_not(zone_lookup4(z, ip("10.2.0.0"), NULL, NULL));
	cr_assert(zone_lookup4(z, ip("172.16.0.9"), NULL, NULL));
	cr_assert_not(zone_lookup4(z, ip("172.16.0.10"), NULL, NULL));
	cr_assert(zone_lookup4(z, ip("172.16.1.7"), &a, NULL));
	cr_assert_str_eq(a, "127.0.0.4");
	cr_assert_not(zone_lookup4(z, ip("172.16.1.8"), NULL, NULL));
	cr_assert_not(zone_lookup4(z, ip("192.0.2.2"), NULL, NULL));
	zone_free(z);
}

Test(zone, host_bits_beyond_the_prefix_are_cleared)
{
	struct zone_stats st;
	struct zone *z = parse("192.0.2.77/24\n", &st);
	cr_assert_eq(st.bad_lines, 0);
	cr_assert(zone_lookup4(z, ip("192.0.2.0"), NULL, NULL));
	cr_assert(zone_lookup4(z, ip("192.0.2.255"), NULL, NULL));
	zone_free(z);
}

Test(zone, hostile_lines_are_counted_and_skipped)
{
	static const char *bad[] = {
		"256.1.1.1", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4-1.2.3.3", "1.2.3.4-",
		"1.2.3.4-300", "1.2.3-1.2.4", "-", "!", "!x", "1..2.3", ".1.2.3", "1.2.3.4.5",
		"1.2.3.4x", "0001.2.3.4", "1.2.3.4 :999.1.1.1:x", "1.2.3.4 :1.2:x", ":300.0.0.1:x",
		"99999999999999999999", "1.2.3.4/0000032", "\x80\xff", "abc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zone_stats st;
		struct zone *z = parse(bad[i], &st);
		cr_assert_eq(st.bad_lines, 1, "accepted: %s", bad[i]);
		cr_assert_eq(st.first_bad_line, 1);
		cr_assert_eq(zone_ranges(z), 0, "listed something for: %s", bad[i]);
		zone_free(z);
	}
}

Test(zone, nul_bytes_and_overlong_lines)
{
	char text[ZONE_LINE_MAX + 64];
	memset(text, '1', sizeof(text));
	memcpy(text, "192.0.2.1\n", 10);
	text[sizeof(text) - 1] = '\n';
	struct zone_stats st;
	struct zone *z = zone_parse(text, sizeof(text), &st);
	cr_assert_eq(st.lines, 2);
	cr_assert_eq(st.bad_lines, 1);
	cr_assert(zone_lookup4(z, ip("192.0.2.1"), NULL, NULL));
	zone_free(z);

	const char nul[] = "192.0.2.1\0 198.51.100.1\n203.0.113.1";
	z = zone_parse(nul, sizeof(nul) - 1, &st);
	cr_assert_eq(st.bad_lines, 1);
	cr_assert_not(zone_lookup4(z, ip("192.0.2.1"), NULL, NULL));
	cr_assert(zone_lookup4(z, ip("203.0.113.1"), NULL, NULL));
	zone_free(z);
}

Test(zone, empty_and_comment_only_files)
{
	struct zone_stats st;
	struct zone *z = zone_parse("", 0, &st);
	cr_assert_eq(zone_ranges(z), 0);
	zone_free(z);
	z = parse("# nothing\n\n   \n\t\n", &st);
	cr_assert_eq(st.bad_lines, 0);
	cr_assert_eq(zone_ranges(z), 0);
	zone_free(z);
}

Test(zone, random_bytes_never_crash)
{
	srand(12345);
	char buf[8192];
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		for (size_t i = 0; i < n; i++) {
			static const char alphabet[] = "0123456789./-!:$#; \t\n\r\xff";
			buf[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		}
		struct zone_stats st;
		struct zone *z = zone_parse(buf, n, &st);
		(void)zone_lookup4(z, (uint32_t)rand(), NULL, NULL);
		zone_free(z);
	}
}
