/*
 * See digest.h.
 */
#include "quarantine/digest.h"

#include <stdbool.h>
#include <string.h>

#include "state/quarantine_index.h"
#include "verdict/points.h"

/* Bytes of a header field or text line as they are, except controls
 * (a line break in a Subject must not start a new line) and, in the
 * header section, anything past ASCII: replaced by '?'. */
static void put_clean(FILE *out, const char *s, bool ascii_only)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f || (ascii_only && *p >= 0x80) ? '?' : *p, out);
}

void digest_write_head(FILE *out, const struct digest_head *h)
{
	char date[64];
	struct tm tm;
	gmtime_r(&h->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	fprintf(out, "From: <%s>\r\nTo: <", h->from);
	put_clean(out, h->to, true);
	fprintf(out, ">\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n"
		     "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		h->subject, date, h->message_id);
	fprintf(out, "%zu message%s addressed to you %s held in quarantine by %s since the\r\n"
		     "last digest (times in UTC):\r\n\r\n",
		h->total, h->total == 1 ? "" : "s", h->total == 1 ? "was" : "were", h->hostname);
}

void digest_write_entry(FILE *out, const struct qindex_row *r)
{
	char when[32], score[POINTS_TEXT_MAX];
	time_t t = (time_t)r->arrival;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	fprintf(out, "%s  score %s  id %s\r\n  From:    <", when, points_format(r->score, score, sizeof(score)), r->id);
	put_clean(out, r->sender, false);
	fputs(">\r\n  Subject: ", out);
	put_clean(out, r->subject, false);
	fputs("\r\n\r\n", out);
}

void digest_write_tail(FILE *out, size_t listed, size_t total)
{
	if (total > listed)
		fprintf(out, "... and %zu more not listed here.\r\n\r\n", total - listed);
	fputs("To have one of them delivered, ask your mail administrator to release it,\r\n"
	      "quoting its id. Held mail is deleted after a while.\r\n", out);
}

int digest_time_of_day(const char *text)
{
	if (!text || strlen(text) != 5 || text[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (text[i] < '0' || text[i] > '9'))
			return -1;
	int hour = (text[0] - '0') * 10 + (text[1] - '0'), minute = (text[3] - '0') * 10 + (text[4] - '0');
	return hour < 24 && minute < 60 ? hour * 60 + minute : -1;
}

/* The latest moment at or before now whose local time is at_minute. */
static time_t last_slot(time_t now, int at_minute)
{
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = at_minute / 60;
	tm.tm_min = at_minute % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;  /* the rules of that day, across a DST change */
	time_t slot = mktime(&tm);
	if (slot > now) {
		tm.tm_mday--;  /* mktime normalises the day before the 1st */
		tm.tm_isdst = -1;
		slot = mktime(&tm);
	}
	return slot;
}

bool digest_due(time_t now, time_t last, int at_minute, unsigned interval)
{
	if (at_minute >= 0)
		return last < last_slot(now, at_minute);
	return now - last >= (time_t)interval;
}
