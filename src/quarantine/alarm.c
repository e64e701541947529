/*
 * See alarm.h.
 */
#include "quarantine/alarm.h"

#include <string.h>
#include <strings.h>

bool alarm_rate_due(struct alarm_rate *r, const char *who, time_t now, unsigned interval)
{
	size_t oldest = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (strncasecmp(r->slot[i].who, who, ALARM_WHO_MAX - 1) == 0) {
			if (now - r->slot[i].last < (time_t)interval && now >= r->slot[i].last)
				return false;
			r->slot[i].last = now;
			return true;
		}
		if (r->slot[i].last < r->slot[oldest].last)
			oldest = i;
	}
	size_t i = r->n < ALARM_SENDERS_MAX ? r->n++ : oldest;
	size_t n = 0;
	for (const char *p = who; *p && n < ALARM_WHO_MAX - 1; p++)
		r->slot[i].who[n++] = *p;
	r->slot[i].who[n] = '\0';
	r->slot[i].last = now;
	return true;
}

/* s as it is, but controls (a line break must not start a new field or
 * line) and, in the header section, anything past ASCII: '?'. */
static void put_clean(FILE *out, const char *s, bool ascii_only)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
		fputc(*p < 0x20 || *p == 0x7f || (ascii_only && *p >= 0x80) ? '?' : *p, out);
}

static void put_line(FILE *out, const char *label, const char *value)
{
	fprintf(out, "  %-14s", label);
	put_clean(out, value && *value ? value : "-", false);
	fputs("\r\n", out);
}

void alarm_write(FILE *out, const struct alarm_mail *m)
{
	char date[64];
	struct tm tm;
	gmtime_r(&m->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	const char *who = m->login && *m->login ? m->login : m->sender && *m->sender ? m->sender : "<>";
	fprintf(out, "From: <%s>\r\nTo: <%s>\r\nSubject: ALARM: malware in outbound mail from ", m->from, m->to);
	put_clean(out, who, true);
	fprintf(out, "\r\nDate: %s\r\nMessage-ID: %s\r\nAuto-Submitted: auto-generated\r\nX-Priority: 1\r\n"
		     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		     "Content-Transfer-Encoding: 8bit\r\n\r\n", date, m->message_id);
	fprintf(out, "%s found malware in a message sent from inside the organisation.\r\n"
		     "The sending machine or account is probably infected.\r\n%s\r\n\r\n", m->hostname,
		m->held ? "The message is held in quarantine and was not delivered."
			: "The message was refused by another check and was not delivered.");
	put_line(out, "Finding:", m->finding);
	put_line(out, "Queue id:", m->queue_id);
	put_line(out, "Client IP:", m->client);
	put_line(out, "HELO:", m->helo);
	put_line(out, "Login:", m->login);
	put_line(out, "Sender:", m->sender && *m->sender ? m->sender : "<>");
	fprintf(out, "\r\nFurther infected mail from this sender is held as well; the next alarm\r\n"
		     "for it comes %u minute(s) after this one at the earliest.\r\n", (m->interval + 59) / 60);
	if (m->held)
		fputs("See it with: mailwarden quarantine list\r\n", out);
}
