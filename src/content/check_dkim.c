/*
 * DKIM verification (RFC 6376) of inbound mail: every signature of the
 * message (up to AUTHDNS_SIGNATURES_MAX) checked with the key its d= and
 * s= name, fetched before the checks ran (content/authdns.h). Policy key
 * scan.<direction>.checks.dkim: its points (or refusal) go to
 * DKIM_INVALID, a signature that fails or whose key does not exist; the
 * other symbols (SpamAssassin's names, so its meta rules can use them)
 * only inform: DKIM_SIGNED, DKIM_VALID, DKIM_VALID_AU (a valid signature
 * of the From domain), DKIM_NONE, DKIM_TEMPERROR (the key lookup timed
 * out or failed: never a refusal). Each signature's result goes into the
 * Authentication-Results field (RFC 8601 2.7.1).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "content/authdns.h"
#include "content/check.h"
#include "content/dkimlib.h"

/* "dkim=pass header.d=example.org header.s=sel" for one signature; the
 * library's reason as a comment when it did not pass. */
static void report_signature(struct content_job *job, const struct dkimlib_signature *s)
{
	char why[sizeof(s->why)], line[700];
	snprintf(why, sizeof(why), "%s", s->why);
	for (char *p = why; *p; p++)
		if (*p == '(' || *p == ')' || *p == ';' || *p < ' ' || *p > '~')
			*p = ' ';
	snprintf(line, sizeof(line), "dkim=%s%s%s%s header.d=%s header.s=%s", dkimlib_result_name(s->result),
		 why[0] ? " (" : "", why, why[0] ? ")" : "", s->domain[0] ? s->domain : "invalid",
		 s->selector[0] ? s->selector : "invalid");
	content_auth_result(job, line);
}

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct dkimlib_verdict *v = content_job_dkim(job, msg, len);
	const struct authdns *dns = content_job_authdns(job);
	if (!v)
		return;
	if (v->n == 0) {
		content_symbol(job, "DKIM_NONE", 0, "no DKIM signature");
		content_auth_result(job, "dkim=none");
		return;
	}
	bool valid = false, author = false, invalid = false, temp = false;
	for (size_t i = 0; i < v->n; i++) {
		const struct dkimlib_signature *s = &v->sig[i];
		report_signature(job, s);
		valid |= s->result == DKIMLIB_PASS;
		author |= s->result == DKIMLIB_PASS && dns->from_domain[0] && strcasecmp(s->domain, dns->from_domain) == 0;
		invalid |= s->result == DKIMLIB_FAIL || s->result == DKIMLIB_PERMERROR;
		temp |= s->result == DKIMLIB_TEMPERROR;
	}
	content_symbol(job, "DKIM_SIGNED", 0, "the message has a DKIM signature");
	if (valid)
		content_symbol(job, "DKIM_VALID", 0, "a DKIM signature verifies");
	if (author)
		content_symbol(job, "DKIM_VALID_AU", 0, "a DKIM signature of the From domain verifies");
	if (!valid && temp)
		content_symbol(job, "DKIM_TEMPERROR", 0, "a DKIM key could not be fetched");
	if (!valid && invalid)
		content_hit(job, "DKIM_INVALID", -1, "no DKIM signature verifies");
}

const struct content_check content_check_dkim = {
	.name = "dkim",
	.default_reply = "550 5.7.20 Message refused: no valid DKIM signature",
	.run = run,
};
