/* The digest mail's text (issue 11): header section, one entry per held
 * message, the count of those not listed; no control byte from a
 * Subject or a sender reaches a line of its own. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine/digest.h"
#include "state/quarantine_index.h"

static char *text;
static size_t len;

static FILE *open_text(void)
{
	free(text);
	text = NULL;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	return f;
}

Test(digest, lists_entries_and_counts_the_rest)
{
	FILE *f = open_text();
	struct digest_head h = { .hostname = "mx.test", .from = "pm@mx.test", .to = "u@example.test",
				 .subject = "Held mail", .message_id = "<1@mx.test>", .now = 0, .total = 3 };
	digest_write_head(f, &h);
	struct qindex_row r = { .id = "0123456789ABCDEF", .sender = "a@x.test", .subject = "Gr\xc3\xbc\xc3\x9f" "e\r\nBcc: x",
				.arrival = 86400, .score = 1250 };
	digest_write_entry(f, &r);
	digest_write_tail(f, 1, 3);
	fclose(f);
	cr_assert(strstr(text, "From: <pm@mx.test>\r\nTo: <u@example.test>\r\nSubject: Held mail\r\n"
			       "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"), "%s", text);
	cr_assert(strstr(text, "3 messages addressed to you were held in quarantine by mx.test"));
	cr_assert(strstr(text, "1970-01-02 00:00  score 12.5  id 0123456789ABCDEF\r\n  From:    <a@x.test>\r\n"
			       "  Subject: Gr\xc3\xbc\xc3\x9f" "e??Bcc: x\r\n"), "%s", text);
	cr_assert(strstr(text, "... and 2 more not listed here.\r\n"));
	cr_assert_null(strstr(text, "\nBcc"));
	free(text);
	text = NULL;
}

Test(digest, all_listed_says_nothing_more)
{
	FILE *f = open_text();
	digest_write_tail(f, 2, 2);
	fclose(f);
	cr_assert_null(strstr(text, "more not listed"));
	free(text);
	text = NULL;
}

/* queue.quarantine_digest_at: local time, in a zone with daylight saving. */
static time_t local(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_isdst = -1 };
	return mktime(&tm);
}

Test(digest, time_of_day_parses_hh_mm_only)
{
	cr_assert_eq(digest_time_of_day("07:30"), 450);
	cr_assert_eq(digest_time_of_day("00:00"), 0);
	cr_assert_eq(digest_time_of_day("23:59"), 1439);
	const char *bad[] = { "24:00", "7:30", "07:60", "07-30", "0730", "07:3x", "", NULL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(digest_time_of_day(bad[i]), -1, "%s", bad[i] ? bad[i] : "NULL");
}

Test(digest, due_once_a_day_at_the_time)
{
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	int at = digest_time_of_day("07:30");
	time_t last = local(2026, 12, 6, 7, 30);  /* yesterday's digest */
	cr_assert_not(digest_due(local(2026, 12, 7, 7, 29), last, at, 60), "a minute early");
	cr_assert(digest_due(local(2026, 12, 7, 7, 30), last, at, 60), "on time");
	cr_assert(digest_due(local(2026, 12, 7, 23, 0), last, at, 60), "late, after a stop");
	cr_assert_not(digest_due(local(2026, 12, 7, 23, 0), local(2026, 12, 7, 7, 31), at, 60), "sent today");
	/* Across the change to summer time (29 March 2026): still 07:30 local. */
	cr_assert(digest_due(local(2026, 3, 29, 7, 30), local(2026, 3, 28, 7, 30), at, 60));
	cr_assert_not(digest_due(local(2026, 3, 29, 7, 29), local(2026, 3, 28, 7, 30), at, 60));
	/* Without a time of day: every interval. */
	cr_assert(digest_due(1000 + 86400, 1000, -1, 86400));
	cr_assert_not(digest_due(999 + 86400, 1000, -1, 86400));
}
