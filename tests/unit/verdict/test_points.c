/* Points in hundredths (src/verdict/points.c): written as the shortest
 * exact decimal, read from the configuration's notation with at most two
 * decimals. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "verdict/points.h"

static const char *shown(int hundredths)
{
	static char buf[POINTS_TEXT_MAX];
	return points_format(hundredths, buf, sizeof(buf));
}

Test(points, are_written_as_the_shortest_exact_decimal)
{
	cr_assert_str_eq(shown(300), "3");
	cr_assert_str_eq(shown(250), "2.5");
	cr_assert_str_eq(shown(125), "1.25");
	cr_assert_str_eq(shown(-50), "-0.5");
	cr_assert_str_eq(shown(-190), "-1.9");
	cr_assert_str_eq(shown(5), "0.05");
	cr_assert_str_eq(shown(-1), "-0.01");
	cr_assert_str_eq(shown(0), "0");
	cr_assert_str_eq(shown(-1200), "-12");
	cr_assert_str_eq(shown(100000), "1000");
	cr_assert_str_eq(shown(INT_MIN), "-21474836.48");
	cr_assert_str_eq(shown(INT_MAX), "21474836.47");
}

Test(points, a_small_buffer_gets_a_cut_string_not_an_overflow)
{
	char buf[4];
	memset(buf, 'x', sizeof(buf));
	cr_assert_str_eq(points_format(12345, buf, sizeof(buf)), "123");
}

static int parsed(const char *s)
{
	int v = -424242;
	enum points_parsed r = points_parse(s, strlen(s), &v);
	cr_assert_eq(r, POINTS_OK, "%s: %d", s, (int)r);
	return v;
}

static enum points_parsed refused(const char *s)
{
	int v = -424242;
	enum points_parsed r = points_parse(s, strlen(s), &v);
	cr_assert_neq(r, POINTS_OK, "%s was taken as %d", s, v);
	cr_assert_eq(v, -424242, "%s: out written on failure", s);
	return r;
}

Test(points, whole_numbers_and_up_to_two_decimals_are_read_as_hundredths)
{
	cr_assert_eq(parsed("3"), 300);
	cr_assert_eq(parsed("2.5"), 250);
	cr_assert_eq(parsed("1.25"), 125);
	cr_assert_eq(parsed("-1.25"), -125);
	cr_assert_eq(parsed("-0.5"), -50);
	cr_assert_eq(parsed("0.05"), 5);
	cr_assert_eq(parsed("2.50"), 250);
	cr_assert_eq(parsed("0"), 0);
	cr_assert_eq(parsed("-0"), 0);
	cr_assert_eq(parsed("007"), 700);
	cr_assert_eq(parsed("100000"), 10000000);
}

Test(points, more_decimals_and_garbage_are_refused)
{
	cr_assert_eq(refused("0.001"), POINTS_TOO_PRECISE);
	cr_assert_eq(refused("2.125"), POINTS_TOO_PRECISE);
	cr_assert_eq(refused("2.5.1"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused("abc"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused(""), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused("-"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused("2."), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused(".5"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused("+2"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused("2,5"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused("1e3"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused(" 2"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused("2.5x"), POINTS_NOT_A_NUMBER);
	cr_assert_eq(refused("99999999999999999999"), POINTS_NOT_A_NUMBER);
}
