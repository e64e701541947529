/* Header-section helpers of the content checks (RFC 5322 2.2), bounded by
 * what they are given: the header section ends at the first empty line;
 * a field is found by its name, case-insensitively, only at a line start. */
#include <criterion/criterion.h>
#include <string.h>

#include "content/check.h"

Test(content_header, section_ends_after_the_first_empty_line)
{
	const char m[] = "A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore";
	cr_assert_eq(content_header_end(m, sizeof(m) - 1), 14);
	const char only[] = "A: 1\r\nB: 2";
	cr_assert_eq(content_header_end(only, sizeof(only) - 1), sizeof(only) - 1);
	const char lf[] = "A: 1\n\nbody";
	cr_assert_eq(content_header_end(lf, sizeof(lf) - 1), 6);
}

Test(content_header, fields_are_found_by_name_at_line_starts_only)
{
	const char h[] = "X-Date: no\r\nmessage-id: <a@b>\r\nDATE: Sun\r\n\r\n";
	const char *v;
	size_t n;
	cr_assert(content_header_find(h, sizeof(h) - 1, "Message-ID", &v, &n));
	cr_assert_eq(strncmp(v, " <a@b>", 6), 0);
	cr_assert(content_header_find(h, sizeof(h) - 1, "Date", &v, &n));
	cr_assert_eq(strncmp(v, " Sun", 4), 0);
	cr_assert_not(content_header_find(h, 10, "Date", &v, &n), "X-Date is not Date");
	cr_assert_not(content_header_find(h, sizeof(h) - 1, "From", &v, &n));
}

static bool drop_x(const char *f, size_t flen, void *arg)
{
	return flen > 2 && (f[0] == 'X' || f[0] == 'x') && f[1] == '-';
}

Test(content_header, removal_takes_whole_fields_and_leaves_the_body)
{
	const char m[] = "X-A: 1\r\n\tfolded\r\nSubject: hi\r\nx-b: 2\r\n\r\nX-C: body line\r\n";
	char out[sizeof(m)];
	size_t n = content_header_remove(m, sizeof(m) - 1, drop_x, NULL, out);
	const char want[] = "Subject: hi\r\n\r\nX-C: body line\r\n";
	cr_assert_eq(n, sizeof(want) - 1);
	cr_assert_eq(memcmp(out, want, n), 0, "got %.*s", (int)n, out);
}

Test(content_header, removal_without_a_match_or_a_body_copies_everything)
{
	const char m[] = "Subject: hi\r\nFrom: a@b";
	char out[sizeof(m)];
	cr_assert_eq(content_header_remove(m, sizeof(m) - 1, drop_x, NULL, out), sizeof(m) - 1);
	cr_assert_eq(memcmp(out, m, sizeof(m) - 1), 0);
	const char last[] = "Subject: hi\r\nX-Z: cut off";
	cr_assert_eq(content_header_remove(last, sizeof(last) - 1, drop_x, NULL, out), 13);
}
