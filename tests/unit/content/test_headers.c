/* Header-section helpers of the content checks (RFC 5322 2.2), bounded by
 * what they are given: the header section ends at the first empty line;
 * a field is found by its name, case-insensitively, only at a line start. */
#include <criterion/criterion.h>
#include <stdlib.h>
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

Test(content_header, obsolete_white_space_before_the_colon_still_names_the_field)
{
	/* RFC 5322 4.5.8: "From :" is read as From by mail clients (REL-3). */
	const char h[] = "From : a@b\r\nFrom\t: c@d\r\nFromage: no\r\n\r\n";
	cr_assert_eq(content_header_count(h, sizeof(h) - 1, "From"), 2);
	const char *v;
	size_t n;
	cr_assert(content_header_find(h, sizeof(h) - 1, "From", &v, &n));
	cr_assert_eq(strncmp(v, " a@b", 4), 0);
}

Test(content_header, fields_are_counted_by_name)
{
	const char h[] = "From: a@b\r\nSubject: x\r\nfrom: c@d\r\nX-From: e@f\r\n\r\nFrom: body@x\r\n";
	size_t hlen = content_header_end(h, sizeof(h) - 1);
	cr_assert_eq(content_header_count(h, hlen, "From"), 2, "the body's From is no header");
	cr_assert_eq(content_header_count(h, hlen, "Sender"), 0);
}

Test(content_header, unfolding_joins_continuation_lines)
{
	const char h[] = "Subject: x\r\nFrom: Alice\r\n <alice@example.test>,\r\n\tbob@example.test\r\nTo: t@x\r\n\r\n";
	size_t n;
	char *v = content_header_unfold(h, sizeof(h) - 1, "From", &n);
	cr_assert_not_null(v);
	cr_assert_str_eq(v, " Alice <alice@example.test>,\tbob@example.test");
	cr_assert_eq(n, strlen(v));
	free(v);
	cr_assert_null(content_header_unfold(h, sizeof(h) - 1, "Sender", &n));
}

Test(content_header, unfolding_keeps_a_nul_byte_visible_in_the_length)
{
	const char h[] = "From: alice@example.test\0, bob@evil.test\r\n\r\n";
	size_t n;
	char *v = content_header_unfold(h, sizeof(h) - 1, "From", &n);
	cr_assert_not_null(v);
	cr_assert_gt(n, strlen(v));
	free(v);
}

Test(content_header, mbox_separators_carry_an_asctime_date)
{
	const char sep[] = "From a@b.example  Thu Aug 22 13:17:22 2002\nReturn-Path: x\n";
	cr_assert(content_mbox_separator(sep, sizeof(sep) - 1));
	const char body[] = "From the desk of the director\n";
	cr_assert_not(content_mbox_separator(body, sizeof(body) - 1), "a body line, not a separator");
	cr_assert_not(content_mbox_separator("Subject: x\n", 11));
}
