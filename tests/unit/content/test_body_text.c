/* The rendered body that body rules match (content/body_text.h): text
 * parts split into paragraphs, HTML tags out, NUL bytes kept with their
 * length, and the limits that keep a hostile message's cost bounded. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "content/body_text.h"

static struct body_text t;

static void done(void)
{
	body_text_free(&t);
}

TestSuite(body_text, .fini = done);

static void part(const char *s, size_t len, bool html)
{
	body_text_add_part(&t, s, len, html);
}

static bool para_is(size_t i, const char *want, size_t len)
{
	return i < t.n && t.len[i] == len && memcmp(t.s[i], want, len) == 0 && t.s[i][len] == '\0';
}

Test(body_text, paragraphs_start_at_their_first_word)
{
	const char *s = "Hello\r\nthere\r\n\r\nWorld\n\n\n  indented\n";
	part(s, strlen(s), false);
	cr_assert_eq(t.n, 3);
	cr_assert(para_is(0, "Hello there", 11), "lines joined by one space");
	cr_assert(para_is(1, "World", 5), "no space left over from the empty line (a ^ rule must match)");
	cr_assert(para_is(2, "indented", 8));
	cr_assert_not(t.truncated);
}

/* SpamAssassin renders body text with each run of white space as one
 * space: "click \nhere" is "click here" for the rules written for it,
 * and a line of blanks ends a paragraph like an empty one. */
Test(body_text, white_space_runs_are_one_space)
{
	const char *s = "simply click \r\nhere\tnow  \r\n \t\r\nnext\x0b  one";
	part(s, strlen(s), false);
	cr_assert_eq(t.n, 2);
	cr_assert(para_is(0, "simply click here now", 21));
	cr_assert(para_is(1, "next one", 8));
}

Test(body_text, nul_bytes_are_kept_with_the_length)
{
	/* A text part may hold NUL bytes: the copy must be as long as the
	 * length the rules are given (a string copy would stop at the NUL and
	 * the rules would read past the end of it). */
	static const char s[] = "abc\0def ghi\n\nx\0";
	part(s, sizeof(s) - 1, false);
	cr_assert_eq(t.n, 2);
	cr_assert(para_is(0, "abc\0def ghi", 11));
	cr_assert(para_is(1, "x\0", 2));
}

Test(body_text, html_tags_out_entities_in)
{
	const char *s = "<p>Cheap &amp; good</p>\n\n<b>x</b>";
	part(s, strlen(s), true);
	cr_assert_eq(t.n, 2);
	cr_assert(para_is(0, "Cheap & good", 12));
	cr_assert(para_is(1, "x", 1));
}

Test(body_text, many_paragraphs_are_cut_at_the_limit)
{
	size_t n = 3 * (BODY_TEXT_PARAGRAPHS_MAX + 100);
	char *s = malloc(n);
	for (size_t i = 0; i < n; i += 3)
		memcpy(s + i, "a\n\n", 3);
	part(s, n, false);
	cr_assert_eq(t.n, BODY_TEXT_PARAGRAPHS_MAX, "every body rule runs on every paragraph: %zu", t.n);
	cr_assert(t.truncated);
	free(s);
}

Test(body_text, a_part_gives_at_most_its_limit_and_a_message_at_most_its_own)
{
	size_t n = 3 * BODY_TEXT_PART_MAX;
	char *s = malloc(n);
	memset(s, 'x', n);
	part(s, n, false);
	cr_assert_eq(t.n, 1);
	cr_assert_eq(t.len[0], BODY_TEXT_PART_MAX);
	cr_assert(t.truncated);
	part(s, n, true);
	cr_assert_eq(t.len[1], BODY_TEXT_PART_MAX, "HTML too");
	for (size_t i = 0; i < 2 * BODY_TEXT_MAX / BODY_TEXT_PART_MAX; i++)
		part(s, n, false);
	cr_assert_eq(t.bytes, BODY_TEXT_MAX);
	size_t sum = 0;
	for (size_t i = 0; i < t.n; i++)
		sum += t.len[i];
	cr_assert_eq(sum, BODY_TEXT_MAX);
	free(s);
}

Test(body_text, empty_input_gives_nothing)
{
	part("", 0, false);
	part("\r\n\r\n\n", 5, false);
	part("<br>", 4, true);
	cr_assert_eq(t.n, 0);
}
