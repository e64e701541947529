/*
 * DKIM signing of outbound mail (RFC 6376): a message whose From domain
 * has a key in scan.dkim_sign gets our DKIM-Signature (rsa-sha256,
 * relaxed/relaxed, the fields of dkimlib_signed_fields), added at
 * delivery in front of the message like the verdict's fields, which are
 * not among those signed. Runs last, over the message as the other
 * checks left it, and only for outbound mail. Listing keys switches the
 * check on for outbound mail (scan.outbound.checks.dkim_sign; "off"
 * there has no effect unless the keys go too). A message that cannot be
 * signed is delivered unsigned, with DKIM_SIGN_FAILED and a log line.
 *
 * The quarantine keeps a message as it arrived and a release delivers
 * those bytes without the fields added here, so the release needs a
 * signature over the original: the same one when no check rewrote the
 * message, a second one when the strip action did
 * (ipc_scan_result.release_headers).
 */
#include <stdio.h>

#include "content/authdns.h"
#include "content/check.h"
#include "content/dkimlib.h"
#include "content/signkeys.h"
#include "ipc/txn.h"

/* Our signature over msg into field; false (and DKIM_SIGN_FAILED) if
 * it cannot be made. */
static bool sign(struct content_job *job, const struct signkey *key, const char *msg, size_t len, char *field,
		 size_t cap)
{
	char err[256];
	if (dkimlib_sign(msg, len, key->domain, key->selector, key->pem, field, cap, err, sizeof(err)))
		return true;
	content_symbol(job, "DKIM_SIGN_FAILED", 0, err);
	return false;
}

static void run(struct content_job *job, const char *msg, size_t len)
{
	char domain[256];
	const struct signkey *key;
	if (!content_job_envelope(job)->outbound ||
	    !authdns_from_domain(msg, content_header_end(msg, len), domain, sizeof(domain)) ||
	    !(key = signkeys_find(content_job_dkim_keys(job), domain)))
		return;
	char field[IPC_SCAN_HEADERS_MAX];
	if (!sign(job, key, msg, len, field, sizeof(field)))
		return;
	if (!content_add_headers(job, field)) {
		content_symbol(job, "DKIM_SIGN_FAILED", 0, "no room for the signature among the added fields");
		return;
	}
	/* A held or stripped message is released as it arrived: it needs a
	 * signature of its own where a check replaced it (msg is then the
	 * replacement, not the original's bytes). */
	size_t olen;
	const char *original = content_job_original(job, &olen);
	if (original && original != msg && !sign(job, key, original, olen, field, sizeof(field)))
		return;
	if (!content_add_release_headers(job, field))
		content_symbol(job, "DKIM_SIGN_FAILED", 0, "no room for the original's signature");
	content_symbol(job, "DKIM_SIGNED_HERE", 0, key->domain);
}

const struct content_check content_check_dkim_sign = {
	.name = "dkim_sign",
	.default_reply = "554 5.7.1 Message refused",
	.run = run,
};
