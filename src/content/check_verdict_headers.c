/*
 * Header fields only this gateway may write, removed from what arrives.
 * Downstream filters and mail clients sort on X-Spam-Flag / X-Spam-Status
 * and trust Authentication-Results under our name; a sender who writes
 * "X-Spam-Flag: NO" or "Authentication-Results: <our hostname>; dmarc=pass"
 * into the message must not reach them with it. RFC 8601 section 5: a
 * border MTA must delete Authentication-Results fields that claim its own
 * authserv-id. The fields the queue adds at delivery (verdict records,
 * msgview.h) are then the only ones of their kind.
 *
 * This is the first check that replaces the message (content_replace):
 * the queue stores the message without those fields. Policy key
 * scan.<direction>.checks.verdict_headers; off leaves them in place.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "content/check.h"
#include "util/alloc.h"

static bool field_named(const char *f, size_t flen, const char *name)
{
	size_t voff;
	return content_field_is(f, flen, name, &voff);
}

/* Skip folding white space and comments (RFC 5322 3.2.2), nested to any depth. */
static size_t skip_cfws(const char *v, size_t pos, size_t len)
{
	int depth = 0;
	for (; pos < len; pos++) {
		char c = v[pos];
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (c == '\\' && depth > 0 && pos + 1 < len)
			pos++;
		else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
	}
	return pos;
}

/* RFC 8601 2.2: authres-header-field = "Authentication-Results:" [CFWS]
 * authserv-id [CFWS authres-version] ... ";". Is the authserv-id ours? */
static bool claims_authserv_id(const char *f, size_t flen, const char *ours)
{
	size_t voff;
	if (!content_field_is(f, flen, "Authentication-Results", &voff))
		return false;
	size_t start = skip_cfws(f, voff, flen), end = start;
	while (end < flen && !strchr(" \t\r\n;(", f[end]))
		end++;
	size_t n = strlen(ours);
	return end - start == n && strncasecmp(f + start, ours, n) == 0;
}

static bool is_ours(const char *f, size_t flen, void *arg)
{
	const char *hostname = arg;
	if (field_named(f, flen, "Authentication-Results"))
		return claims_authserv_id(f, flen, hostname);
	/* Names as readers see them: white space before the colon counts. */
	return field_named(f, flen, "X-Spam-Flag") || field_named(f, flen, "X-Spam-Score") ||
	       field_named(f, flen, "X-Spam-Status") ||
	       (flen > 13 && strncasecmp(f, "X-Mailwarden-", 13) == 0);
}

static void run(struct content_job *job, const char *msg, size_t len)
{
	char *hostname = content_job_config(job)->hostname;
	char *out = xmalloc(len + 1);
	size_t n = content_header_remove(msg, len, is_ours, hostname, out);
	if (n != len) {
		content_hit(job, "HEADER_FORGED_VERDICT", -1, "header fields only this gateway writes were removed");
		content_replace(job, out, n);  /* never larger than the message it replaces */
	}
	free(out);
}

const struct content_check content_check_verdict_headers = {
	.name = "verdict_headers",
	.default_reply = "550 5.7.1 Message refused: forged verdict header fields",
	.run = run,
};
