/* Splitting command lines (RFC 5321 4.1.1), with hostile input. */
#include <criterion/criterion.h>
#include <string.h>

#include "smtp/parser.h"

#define SPLIT(lit, l) smtp_line_split(lit, sizeof(lit) - 1, l)

Test(parser, verb_and_arguments)
{
	struct smtp_line l;
	cr_assert_eq(SPLIT("MAIL FROM:<a@b.test> SIZE=10", &l), SMTP_LINE_OK);
	cr_assert(smtp_verb_is(&l, "mail"));
	cr_assert_eq(l.args_len, strlen("FROM:<a@b.test> SIZE=10"));
	cr_assert(memcmp(l.args, "FROM:<a@b.test> SIZE=10", l.args_len) == 0);
}

Test(parser, verb_without_arguments_and_trailing_spaces)
{
	struct smtp_line l;
	cr_assert_eq(SPLIT("QUIT   ", &l), SMTP_LINE_OK);
	cr_assert(smtp_verb_is(&l, "QUIT"));
	cr_assert_eq(l.args_len, 0);
}

Test(parser, hostile_lines_are_refused)
{
	struct smtp_line l;
	cr_assert_eq(SPLIT("MAIL\0FROM:<a@b>", &l), SMTP_LINE_CONTROL);
	cr_assert_eq(SPLIT("MAIL FROM:<a@b>\r", &l), SMTP_LINE_CONTROL);
	cr_assert_eq(SPLIT("RCPT TO:<a@b>\x7f", &l), SMTP_LINE_CONTROL);
	cr_assert_eq(SPLIT("\x1b[2J", &l), SMTP_LINE_CONTROL);
	cr_assert_eq(SPLIT("", &l), SMTP_LINE_EMPTY);
	cr_assert_eq(SPLIT("   ", &l), SMTP_LINE_EMPTY);
	cr_assert_eq(SPLIT("MA1L FROM:<a@b>", &l), SMTP_LINE_VERB);
	cr_assert_eq(SPLIT(" MAIL", &l), SMTP_LINE_VERB);
	cr_assert_eq(SPLIT("MAIL:FROM", &l), SMTP_LINE_VERB);
}

Test(parser, keyword_with_and_without_space)
{
	size_t rest;
	const char *p = smtp_args_after_keyword("from:<a@b>", 10, "FROM:", &rest);
	cr_assert_not_null(p);
	cr_assert_eq(rest, 5);
	p = smtp_args_after_keyword("FROM: <a@b>", 11, "FROM:", &rest);
	cr_assert_not_null(p);
	cr_assert_eq(*p, '<');
	cr_assert_null(smtp_args_after_keyword("TO:<a@b>", 8, "FROM:", &rest));
	cr_assert_null(smtp_args_after_keyword("FRO", 3, "FROM:", &rest));
}
