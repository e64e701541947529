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
