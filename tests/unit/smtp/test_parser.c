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

/* ALPACA (issue 18 item 3): HTTP request lines and header fields are
 * recognised, SMTP commands are not. */
Test(parser, http_lines_are_recognised)
{
	static const char *const http[] = {
		"GET / HTTP/1.1", "POST /form HTTP/1.1", "CONNECT mx.example:25 HTTP/1.1", "HEAD /",
		"PUT /x HTTP/1.0", "get / http/1.1", "OPTIONS * HTTP/1.1", "GET",
		"Host: mx.example.org", "User-Agent: Mozilla/5.0", "Content-Length: 10", "host:x",
	};
	static const char *const smtp[] = {
		"EHLO client.example", "MAIL FROM:<a@b.example>", "RCPT TO:<GET@b.example>", "DATA",
		"NOOP GET", "HELP POST", "QUIT", "GETX / HTTP/1.1", "", ":", "AUTH PLAIN AGVu",
		"MAILFROM:<a@b.example>", "RCPTTO:<a@b.example>", "Subject: hello", "Hostname: x",
	};
	for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++)
		cr_assert(smtp_line_is_http(http[i], strlen(http[i])), "%s", http[i]);
	for (size_t i = 0; i < sizeof(smtp) / sizeof(smtp[0]); i++)
		cr_assert_not(smtp_line_is_http(smtp[i], strlen(smtp[i])), "%s", smtp[i]);
}
