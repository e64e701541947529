/* The outbound infection alarm's pure part (issue 12, SCAN-9;
 * quarantine/alarm.h): one alarm per sender per interval, a bounded
 * table, and a mail whose header section no network string can break. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine/alarm.h"

static struct alarm_rate *rate;

static void setup(void)
{
	rate = calloc(1, sizeof(*rate));
}

static void teardown(void)
{
	free(rate);
}

TestSuite(alarm, .init = setup, .fini = teardown);

Test(alarm, one_per_sender_per_interval)
{
	cr_assert(alarm_rate_due(rate, "alice@example.test", 1000, 3600));
	cr_assert_not(alarm_rate_due(rate, "alice@example.test", 1001, 3600));
	cr_assert_not(alarm_rate_due(rate, "ALICE@example.test", 4599, 3600), "case does not make a new sender");
	cr_assert(alarm_rate_due(rate, "bob@example.test", 1002, 3600), "another sender has its own");
	cr_assert(alarm_rate_due(rate, "alice@example.test", 4600, 3600), "the interval is over");
	cr_assert_not(alarm_rate_due(rate, "alice@example.test", 4601, 3600));
}

Test(alarm, a_full_table_forgets_the_oldest)
{
	char who[32];
	for (int i = 0; i < ALARM_SENDERS_MAX; i++) {
		snprintf(who, sizeof(who), "u%d@x.test", i);
		cr_assert(alarm_rate_due(rate, who, 1000 + i, 3600));
	}
	cr_assert_eq(rate->n, ALARM_SENDERS_MAX);
	cr_assert(alarm_rate_due(rate, "new@x.test", 5000 - 3601, 3600));
	cr_assert_eq(rate->n, ALARM_SENDERS_MAX, "bounded");
	cr_assert(alarm_rate_due(rate, "u0@x.test", 1400, 3600), "u0 made room, and is alarmed again");
	cr_assert_not(alarm_rate_due(rate, "u5@x.test", 1400, 3600), "the others are remembered");
}

Test(alarm, mail_names_the_client_and_keeps_its_header_clean)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct alarm_mail m = { .hostname = "mx.gw.test", .from = "postmaster@gw.test", .to = "admin@example.test",
				.message_id = "<1.alarm@mx.gw.test>", .now = 0, .interval = 3600,
				.queue_id = "ABCDEF0123456789", .client = "127.0.0.10", .helo = "pc17.lan",
				.login = "", .sender = "eve@inside.test\r\nBcc: x@evil.test",
				.finding = "clamav found Eicar-Test-Signature in part 2", .held = true };
	alarm_write(out, &m);
	fclose(out);
	char *body = strstr(text, "\r\n\r\n");
	cr_assert_not_null(body);
	*body = '\0';
	cr_assert_not_null(strstr(text, "Subject: ALARM: malware in outbound mail from eve@inside.test??Bcc: x@evil.test"));
	cr_assert_null(strstr(text, "\r\nBcc:"), "no field smuggled into the header: %s", text);
	cr_assert_not_null(strstr(text, "To: <admin@example.test>"));
	cr_assert_not_null(strstr(text, "Auto-Submitted: auto-generated"));
	body += 4;
	cr_assert_not_null(strstr(body, "Client IP:    127.0.0.10\r\n"), "%s", body);
	cr_assert_not_null(strstr(body, "HELO:         pc17.lan\r\n"));
	cr_assert_not_null(strstr(body, "Login:        -\r\n"));
	cr_assert_not_null(strstr(body, "Finding:      clamav found Eicar-Test-Signature in part 2\r\n"));
	cr_assert_not_null(strstr(body, "60 minute(s)"));
	cr_assert_not_null(strstr(body, "held in quarantine"));
	cr_assert_not_null(strstr(body, "mailwarden quarantine list"));
	free(text);
}
