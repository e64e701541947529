/* The outbound client's reply reader (smtp/reply_reader.c, issue 14):
 * multi-line replies, EHLO capabilities, and what a hostile next hop may
 * send instead. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "smtp/reply_reader.h"

static enum reply_step feed(struct reply_reader *r, const char *text, bool ehlo, unsigned long long *size)
{
	char line[REPLY_LINE_MAX + 8];
	snprintf(line, sizeof(line), "%s", text);
	return reply_read_line(r, line, strlen(line), ehlo, size);
}

Test(reply_reader, multiline_ehlo_with_capabilities)
{
	struct reply_reader r = { 0 };
	unsigned long long size = 0;
	cr_assert_eq(feed(&r, "250-mx.example.net hello\r", true, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250-SIZE 10240000\r", true, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250-smtputf8\r", true, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250 PIPELINING\r", true, &size), REPLY_LAST);
	cr_assert_eq(r.code, 250);
	cr_assert_str_eq(r.text, "250 PIPELINING");
	cr_assert_eq(size, 10240000ULL);
	cr_assert(reply_has_cap(&r, "SMTPUTF8"));
	cr_assert(reply_has_cap(&r, "pipelining"));
	cr_assert_not(reply_has_cap(&r, "mx.example.net"));  /* the first line is the greeting */
	cr_assert_eq(r.lines, 0);
}

Test(reply_reader, code_only_and_a_new_reply_after_the_last_line)
{
	struct reply_reader r = { 0 };
	unsigned long long size = 0;
	cr_assert_eq(feed(&r, "354\r", false, &size), REPLY_LAST);
	cr_assert_eq(r.code, 354);
	cr_assert_eq(feed(&r, "550 5.1.1 no\r", false, &size), REPLY_LAST);
	cr_assert_eq(r.code, 550);
}

Test(reply_reader, hostile_replies_are_malformed)
{
	const char *bad[] = {
		"250 ok",            /* bare LF: no CR before it */
		"250 ok\rx\r",       /* a CR inside */
		"600 ok\r", "25\r", "250x\r", "abc\r",
		"250 caf\xff\r",     /* invalid UTF-8 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct reply_reader r = { 0 };
		unsigned long long size = 0;
		cr_assert_eq(feed(&r, bad[i], false, &size), REPLY_MALFORMED, "%zu", i);
	}
	struct reply_reader r = { 0 };
	unsigned long long size = 0;
	cr_assert_eq(feed(&r, "250-a\r", false, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "251 b\r", false, &size), REPLY_MALFORMED);  /* the code changed */
}

Test(reply_reader, too_many_lines)
{
	struct reply_reader r = { 0 };
	unsigned long long size = 0;
	for (int i = 0; i < REPLY_LINES_MAX; i++)
		cr_assert_eq(feed(&r, "250-x\r", true, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250 x\r", true, &size), REPLY_MALFORMED);
}

/* Issue 15: the mechanisms of the AUTH capability, for the smart host's
 * AUTH (smtp/sasl_client.h); a new EHLO reply forgets the last one's. */
Test(reply_reader, ehlo_keeps_the_auth_mechanisms)
{
	struct reply_reader r = { 0 };
	unsigned long long size = 0;
	cr_assert_eq(feed(&r, "250-relay.example hello\r", true, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250-AUTH LOGIN PLAIN\r", true, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250 PIPELINING\r", true, &size), REPLY_LAST);
	cr_assert_str_eq(r.auth_mechs, "LOGIN PLAIN");
	cr_assert(reply_has_cap(&r, "AUTH"));
	cr_assert_eq(feed(&r, "250-relay.example hello\r", true, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250 auth plain\r", true, &size), REPLY_LAST);
	cr_assert_str_eq(r.auth_mechs, "plain");
	cr_assert_eq(feed(&r, "250 relay.example\r", true, &size), REPLY_LAST);
	cr_assert_str_eq(r.auth_mechs, "");
	/* a reply other than EHLO's leaves them alone */
	cr_assert_eq(feed(&r, "250-AUTH PLAIN\r", true, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250 AUTH PLAIN\r", true, &size), REPLY_LAST);
	cr_assert_eq(feed(&r, "250-AUTH LOGIN\r", false, &size), REPLY_MORE);
	cr_assert_eq(feed(&r, "250 ok\r", false, &size), REPLY_LAST);
	cr_assert_str_eq(r.auth_mechs, "PLAIN");
}
