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
