/* RFC 3464 DSN builder (src/queue/dsn.c). The system tests parse real
 * bounces with Python's email package; these pin the details. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "queue/dsn.h"

static const char headers[] = "Received: from x\r\nSubject: hello\r\nFrom: a@b.test\r\n";

static char *build(const struct dsn_rcpt *r, size_t n, size_t *len)
{
	struct dsn_info info = { .reporting_mta = "mx.gw.test", .queue_id = "0123456789ABCDEF",
				 .to = "a@b.test", .arrival = 1700000000, .now = 1700003600,
				 .boundary = "=_b", .message_id = "id@mx.gw.test" };
	return dsn_build(&info, r, n, headers, strlen(headers), len);
}

Test(dsn, failed_report_has_the_three_parts)
{
	struct dsn_rcpt r[] = {
		{ .addr = "x@example.test", .action = DSN_FAILED, .reply = "550 5.1.1 no such user",
		  .remote_mta = "127.0.0.1" },
	};
	size_t len;
	char *m = build(r, 1, &len);
	cr_assert_eq(strlen(m), len);
	cr_assert(strstr(m, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"=_b\"\r\n"));
	cr_assert(strstr(m, "\r\n--=_b\r\nContent-Type: text/plain; charset=us-ascii\r\n"));
	cr_assert(strstr(m, "\r\n--=_b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.gw.test\r\n"));
	cr_assert(strstr(m, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	cr_assert(strstr(m, "\r\n\r\nFinal-Recipient: rfc822; x@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
			    "Remote-MTA: dns; 127.0.0.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"));
	cr_assert(strstr(m, "Content-Type: text/rfc822-headers\r\n\r\nReceived: from x\r\nSubject: hello\r\n"));
	cr_assert(strstr(m, "Subject: Undelivered Mail Returned to Sender\r\n"));
	cr_assert(strstr(m, "Auto-Submitted: auto-replied\r\n"));
	size_t blen = strlen("\r\n--=_b--\r\n");
	cr_assert_eq(memcmp(m + len - blen, "\r\n--=_b--\r\n", blen), 0);
	/* every line CRLF, none longer than 998 */
	for (char *p = m, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		cr_assert(nl > m && nl[-1] == '\r');
		cr_assert_leq(nl - p, 1000);
	}
	free(m);
}

Test(dsn, delayed_and_delivered_actions)
{
	struct dsn_rcpt r[] = { { .addr = "x@example.test", .action = DSN_DELAYED, .reply = "451 4.4.1 down" } };
	size_t len;
	char *m = build(r, 1, &len);
	cr_assert(strstr(m, "Action: delayed\r\nStatus: 4.4.1\r\n"));
	cr_assert(strstr(m, "Last-Attempt-Date: "));
	cr_assert(strstr(m, "Subject: Delayed Mail (still being retried)\r\n"));
	free(m);
	struct dsn_rcpt ok[] = { { .addr = "x@example.test", .action = DSN_DELIVERED, .reply = "250 ok",
				   .orcpt = "X@Example.test" } };
	m = build(ok, 1, &len);
	cr_assert(strstr(m, "Original-Recipient: rfc822; X@Example.test\r\nFinal-Recipient: rfc822; x@example.test\r\n"
			    "Action: delivered\r\nStatus: 2.0.0\r\n"));
	free(m);
}

Test(dsn, hostile_reply_text_cannot_inject_fields)
{
	struct dsn_rcpt r[] = { { .addr = "x@example.test\r\nAction: delivered", .action = DSN_FAILED,
				  .reply = "550 5.7.1 bad\r\nStatus: 2.0.0\r\n\r\n--=_b--" } };
	size_t len;
	char *m = build(r, 1, &len);
	cr_assert_null(strstr(m, "\r\nStatus: 2.0.0"));
	cr_assert_null(strstr(m, "\r\nAction: delivered"));
	cr_assert(strstr(m, "Status: 5.7.1\r\n"));
	free(m);
}

Test(dsn, status_from_reply)
{
	char s[16];
	dsn_status("550 5.1.1 no", s);
	cr_assert_str_eq(s, "5.1.1");
	dsn_status("451 4.4.7 gave up", s);
	cr_assert_str_eq(s, "4.4.7");
	dsn_status("550 no enhanced code", s);
	cr_assert_str_eq(s, "5.0.0");
	dsn_status("550 4.1.1 class mismatch", s);  /* RFC 3463: class must match the reply */
	cr_assert_str_eq(s, "5.0.0");
	dsn_status("552 5.2.2222 too long", s);
	cr_assert_str_eq(s, "5.0.0");
	dsn_status("", s);
	cr_assert_str_eq(s, "4.0.0");
	dsn_status("556 5.1.10 null MX", s);
	cr_assert_str_eq(s, "5.1.10");
}

Test(dsn, long_headers_are_cut_at_a_line)
{
	size_t n = DSN_HEADERS_MAX + 5000;
	char *h = malloc(n + 1);
	for (size_t i = 0; i < n; i += 50) {
		size_t k = n - i < 50 ? n - i : 50;
		memset(h + i, 'a', k);
		if (k == 50) {
			h[i] = 'X'; h[i + 1] = ':';
			h[i + 48] = '\r'; h[i + 49] = '\n';
		}
	}
	h[n] = '\0';
	struct dsn_info info = { .reporting_mta = "m", .queue_id = "q", .to = "a@b", .boundary = "=_b",
				 .message_id = "i@m" };
	struct dsn_rcpt r[] = { { .addr = "x@y", .action = DSN_FAILED, .reply = "550 x" } };
	size_t len;
	char *m = dsn_build(&info, r, 1, h, n, &len);
	char *part = strstr(m, "text/rfc822-headers\r\n\r\n");
	cr_assert(part);
	cr_assert_lt(strlen(part), DSN_HEADERS_MAX + 200);
	cr_assert(strstr(part, "\r\n\r\n--=_b--\r\n"));
	free(m);
	free(h);
}
