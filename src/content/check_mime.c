/*
 * MIME structure (issue 11): what the MIME view (content/mime.h) found
 * wrong with the message, one symbol per kind of problem. Broken or
 * unusual MIME is how malware and spam hide parts from scanners while
 * mail clients still show them, and a message past a parse limit was not
 * fully seen: both should count against the message (SCAN-5). Policy key
 * scan.<direction>.checks.mime.
 */
#include "content/check.h"
#include "content/mime.h"

static const struct {
	uint32_t bit;
	const char *symbol;
	const char *detail;
} problems[] = {
	{ MIME_MALFORMED, "MIME_MALFORMED", "multipart or message part broken or cut off" },
	{ MIME_NO_BOUNDARY, "MIME_NO_BOUNDARY", "multipart without a boundary parameter" },
	{ MIME_BAD_HEADER, "MIME_BAD_HEADER", "invalid, repeated or conflicting header fields" },
	{ MIME_BAD_ENCODED_WORD, "MIME_BAD_ENCODED_WORD", "invalid RFC 2047 encoded word" },
	{ MIME_8BIT_HEADER, "MIME_8BIT_HEADER", "raw 8-bit bytes in a header" },
	{ MIME_BAD_CONTENT_TYPE, "MIME_BAD_CONTENT_TYPE", "invalid Content-Type or parameter" },
	{ MIME_BAD_CHARSET, "MIME_BAD_CHARSET", "text in a charset that cannot be converted" },
	{ MIME_TOO_DEEP, "MIME_TOO_DEEP", "nesting beyond the limit: deeper parts not scanned" },
	{ MIME_TOO_MANY_PARTS, "MIME_TOO_MANY_PARTS", "more parts (or header field or boundary lines) than the limits: the rest not scanned" },
	{ MIME_TOO_LARGE, "MIME_TOO_LARGE", "decoded content beyond the limit: the rest not scanned" },
};

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct mime_message *m = content_job_mime(job, msg, len);
	for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
		if (m->problems & problems[i].bit)
			content_hit(job, problems[i].symbol, -1, problems[i].detail);
}

const struct content_check content_check_mime = {
	.name = "mime",
	.default_reply = "554 5.6.0 Message refused: malformed MIME structure",
	.run = run,
};
