/*
 * REL-3 on the header: a user who logged in (AUTH) may put in From only
 * addresses their login owns, as smtpd already demands of the envelope
 * sender (auth_db_sender_ok). Otherwise a valid login on the submission
 * port could send mail that every reader sees as coming from a colleague,
 * the boss or the bank's domain. Runs only on authenticated mail
 * (auth_only); refuses by default; policy key
 * scan.<direction>.checks.from_binding.
 *
 * Hits:
 * - more than one From field: RFC 5322 3.6 allows exactly one, and which
 *   of two a mail client shows is anyone's guess;
 * - no From at all: RFC 5322 3.6 requires it, and a message without one
 *   gets a From made up downstream that nobody checked here;
 * - a From that does not parse as an address list (RFC 5322 3.4);
 * - any mailbox in From (a From with several mailboxes, or a group, is
 *   valid only with a Sender field; every one of them is checked) or in
 *   Sender that the login may not use. Display names are not addresses
 *   and are not checked.
 */
#include "content/check.h"

#include <stdio.h>
#include <stdlib.h>

#include "content/address_list.h"

/* Every mailbox of the (single) field name, if present: false with the
 * reason in why when the message must be refused. */
static bool field_owned(struct content_job *job, const char *hdr, size_t hlen, const char *name, char *why,
			size_t whylen)
{
	size_t vlen;
	char *value = content_header_unfold(hdr, hlen, name, &vlen);
	if (!value)
		return true;
	struct address_list l;
	bool ok = address_list_parse(value, vlen, &l);
	free(value);
	if (!ok) {
		snprintf(why, whylen, "%s does not parse as an address list (RFC 5322 3.4)", name);
		return false;
	}
	for (size_t i = 0; ok && i < l.n; i++)
		if (!content_job_sender_ok(job, l.addrs[i])) {
			snprintf(why, whylen, "%s address %s does not belong to the login", name, l.addrs[i]);
			ok = false;
		}
	address_list_free(&l);
	return ok;
}

static void run(struct content_job *job, const char *msg, size_t len)
{
	size_t hlen = content_header_end(msg, len);
	size_t n_from = content_header_count(msg, hlen, "From");
	char why[400];
	if (n_from == 0) {
		content_hit(job, "FROM_MISSING", -1, "no From header (RFC 5322 3.6)");
		return;
	}
	if (n_from > 1 || content_header_count(msg, hlen, "Sender") > 1) {
		content_hit(job, "FROM_REPEATED", -1, "more than one From or Sender header (RFC 5322 3.6)");
		return;
	}
	if (!field_owned(job, msg, hlen, "From", why, sizeof(why)) ||
	    !field_owned(job, msg, hlen, "Sender", why, sizeof(why)))
		content_hit(job, "FROM_NOT_OWNED", -1, why);
}

const struct content_check content_check_from_binding = {
	.name = "from_binding",
	.default_reply = "550 5.7.1 Message refused: header From does not belong to the authenticated user",
	.default_action = SCAN_CHECK_REFUSE,
	.auth_only = true,
	.run = run,
};
