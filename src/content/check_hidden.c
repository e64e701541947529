/*
 * Hidden content (issue 12, SCAN-6): what the salvage view
 * (content/salvage.h) found that no malware engine could look at. BinHex
 * data is not decoded here; a salvage that hit its limits left blocks
 * unscanned. Either way a mail client may show an attachment that the
 * engines never saw, so the message is judged unscannable: refused by
 * default (fail closed) wherever a malware engine is configured.
 * Policy key scan.<direction>.checks.hidden.
 */
#include "content/check.h"
#include "content/salvage.h"

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct salvage *s = content_job_salvage(job, msg, len);
	if (s->binhex)
		content_hit(job, "HIDDEN_BINHEX", -1, "BinHex data, which no engine here opens");
	if (s->ambiguous)
		content_hit(job, "HIDDEN_AMBIGUOUS", -1, "encoded data outside the MIME structure that readers decode differently");
	if (s->truncated)
		content_hit(job, "HIDDEN_TOO_MANY", -1, "more encoded blocks than the salvage limits: the rest not scanned");
}

const struct content_check content_check_hidden = {
	.name = "hidden",
	.default_reply = "554 5.6.0 Message refused: content in a form that cannot be scanned",
	.run = run,
};
