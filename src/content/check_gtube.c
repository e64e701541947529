/*
 * GTUBE, the Generic Test for Unsolicited Bulk Email: a fixed string that
 * SpamAssassin, rspamd and most filters treat as certain spam, so that an
 * administrator can check the whole path (scan, score, action) with a
 * harmless message. Looked for in every decoded text part (MIME view), so
 * a base64 or quoted-printable test mail is found as well. Policy key
 * scan.<direction>.checks.gtube (e.g. {action: score, points: 1000}).
 */
#include <string.h>

#include "content/check.h"
#include "content/mime.h"

static const char gtube[] = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct mime_message *m = content_job_mime(job, msg, len);
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mime_part *p = &m->parts[i];
		if (strncmp(p->type, "text/", 5) == 0 && p->data && memmem(p->data, p->len, gtube, sizeof(gtube) - 1)) {
			content_hit(job, "GTUBE", -1, "the GTUBE test string (a test message, not real spam)");
			return;
		}
	}
}

const struct content_check content_check_gtube = {
	.name = "gtube",
	.default_reply = "554 5.7.1 Message refused: GTUBE test message",
	.run = run,
};
