/*
 * Header conformance (RFC 5322 3.6): a message must have an origination
 * date (Date:) and should have a Message-ID; mail software sends both, a
 * good deal of spamware does not. Scores by default; policy key
 * scan.<direction>.checks.headers.
 */
#include "content/check.h"

static void run(struct content_job *job, const char *msg, size_t len)
{
	size_t hlen = content_header_end(msg, len);
	const char *v;
	size_t vlen;
	if (!content_header_find(msg, hlen, "Date", &v, &vlen))
		content_hit(job, "HEADER_MISSING_DATE", -1, "no Date header (RFC 5322 3.6.1)");
	if (!content_header_find(msg, hlen, "Message-ID", &v, &vlen))
		content_hit(job, "HEADER_MISSING_MESSAGE_ID", -1, "no Message-ID header (RFC 5322 3.6.4)");
}

const struct content_check content_check_headers = {
	.name = "headers",
	.default_reply = "550 5.6.0 Message refused: required header missing",
	.run = run,
};
