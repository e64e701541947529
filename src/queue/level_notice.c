/*
 * The notice mail of an automatic level switch: see level_notice.h.
 */
#include "queue/level_notice.h"

#include <stdlib.h>

#include "config/config.h"
#include "queue/local_mail.h"

void level_notice_write(FILE *out, const struct config *c, const struct level_notice *n, const char *from,
			const char *message_id)
{
	const struct config_level *lv = c->emergency.levels;
	bool up = n->to > n->from;
	char date[64];
	struct tm tm;
	gmtime_r(&n->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	fprintf(out, "From: <%s>\r\nTo: <%s>\r\nSubject: emergency level %zu %s %s by trigger on %s\r\n"
		     "Date: %s\r\nMessage-ID: %s\r\nAuto-Submitted: auto-generated\r\n"
		     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
		from, c->emergency.notify, n->to, lv[n->to].name, up ? "raised" : "lowered", c->hostname, date,
		message_id);
	fprintf(out, "%s switched its emergency level by itself:\r\n\r\n", c->hostname);
	fprintf(out, "  From level:    %zu %s\r\n  To level:      %zu %s\r\n", n->from, lv[n->from].name, n->to,
		lv[n->to].name);
	fprintf(out, "  Measured:      %s\r\n", n->why);
	fprintf(out, "  %s %u second(s)\r\n", up ? "Held for:     " : "Clear for:    ", n->held);
	fputs("\r\nSee the level and the triggers with: mailwarden ctl status\r\n"
	      "A level switched by hand (mailwarden ctl level N) is never lowered by a trigger.\r\n", out);
}

bool level_notice_send(const struct config *c, struct spool *sp, struct scheduler *sch,
		       const struct level_notice *n, char *id, size_t idcap)
{
	char from[300], msgid[400];
	snprintf(from, sizeof(from), "postmaster@%s", c->hostname);
	local_mail_message_id(msgid, sizeof(msgid), "level", c->hostname);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return false;
	level_notice_write(out, c, n, from, msgid);
	bool ok = fclose(out) == 0 &&
		  local_mail_queue(sp, sch, c->hostname, from, c->emergency.notify, 0, text, len, id, idcap);
	free(text);
	return ok;
}
