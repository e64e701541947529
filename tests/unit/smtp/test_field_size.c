/* Header field lengths as the bytes stream past (attack case 137: header
 * size bombs, Exim CVE-2020-28020). */
#include <criterion/criterion.h>
#include <string.h>

#include "smtp/field_size.h"

static void feed(struct field_size *f, const char *s)
{
	field_size_feed(f, s, strlen(s));
}

/* count lines "prefix" + "\r\n" in pieces of up to piece bytes */
static void feed_lines(struct field_size *f, const char *line, unsigned count, size_t piece)
{
	size_t n = strlen(line);
	for (unsigned i = 0; i < count; i++)
		for (size_t at = 0; at < n; at += piece)
			field_size_feed(f, line + at, n - at < piece ? n - at : piece);
}

Test(field_size, folded_continuations_count_as_one_field)
{
	struct field_size f = { 0 };
	feed(&f, "Subject: a\r\n");
	feed_lines(&f, " folded\r\n", FIELD_SIZE_MAX / 9 + 1, 3);
	cr_assert(f.too_long);
}

Test(field_size, many_short_fields_are_fine)
{
	struct field_size f = { 0 };
	feed_lines(&f, "X-A: b\r\n", 100000, 5);
	cr_assert_not(f.too_long);
	cr_assert_not(f.body);
}

Test(field_size, a_field_just_at_the_limit_passes)
{
	struct field_size f = { 0 };
	static char line[FIELD_SIZE_MAX + 3];
	memset(line, 'x', FIELD_SIZE_MAX - 2);  /* + CRLF = the limit */
	memcpy(line, "X-Long: ", 8);
	strcpy(line + FIELD_SIZE_MAX - 2, "\r\n");
	feed(&f, line);
	cr_assert_not(f.too_long);
	feed(&f, "X-Next: y\r\n");
	cr_assert_not(f.too_long, "the next field starts from zero");
}

Test(field_size, the_body_is_not_measured)
{
	struct field_size f = { 0 };
	feed(&f, "Subject: a\r\n\r\n");
	cr_assert(f.body);
	feed_lines(&f, " a long folded-looking body line\r\n", 10000, 7);
	cr_assert_not(f.too_long);
}

Test(field_size, the_empty_line_split_across_pieces_ends_the_header)
{
	struct field_size f = { 0 };
	feed(&f, "Subject: a\r\n\r");
	cr_assert_not(f.body);
	feed(&f, "\n");
	cr_assert(f.body);
}
