/*
 * Encrypted content (issue 12, SCAN-10; BSI M 5.109 asks for a defined
 * handling of encrypted mail): the malware engines cannot see into an
 * S/MIME envelope, a PGP message, an encrypted PDF or Office document
 * (content/encryption.h recognises them in the decoded leaf parts), so
 * scan.encryption (scan/config_encryption.c) says per direction what
 * such a message gets: allow, tag (the default), quarantine or refuse;
 * partners in its exempt list always get allow. One symbol per kind
 * found: ENCRYPTED_SMIME, ENCRYPTED_PGP, ENCRYPTED_PDF, ENCRYPTED_OFFICE,
 * 0 points. The check runs where scan.encryption or a malware engine
 * is configured (scan_encryption_switch_on); its action and points under
 * scan.<direction>.checks are not used (scan/config_encryption.c says
 * why).
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "content/check.h"
#include "content/encryption.h"
#include "content/mime.h"
#include "ipc/txn.h"
#include "scan/policy.h"

static const char *const action_names[] = {
	[SCAN_ENCRYPTION_TAG] = "tag",
	[SCAN_ENCRYPTION_ALLOW] = "allow",
	[SCAN_ENCRYPTION_QUARANTINE] = "quarantine",
	[SCAN_ENCRYPTION_REFUSE] = "refuse",
};

/* The policy for this message: the direction's, unless the sender or
 * every recipient is an exempt partner. */
static enum scan_encryption_action policy_of(const struct content_job *job)
{
	const struct ipc_scan_request *req = content_job_envelope(job);
	const struct scan_config *sc = content_job_config(job)->scan;
	const char *rcpts[IPC_SCAN_RCPTS_MAX];
	size_t n = req->n_listed < IPC_SCAN_RCPTS_MAX ? req->n_listed : IPC_SCAN_RCPTS_MAX;
	for (size_t i = 0; i < n; i++)
		rcpts[i] = req->rcpts[i];
	return scan_encryption_action_for(sc ? sc->encryption : NULL, req->outbound, req->sender, rcpts, n,
					  n == req->n_rcpts);
}

/* One kind found, where: what the policy does with it. */
static void apply(struct content_job *job, enum encryption_kind k, enum scan_encryption_action a, const char *where)
{
	const char *symbol = encryption_symbol(k);
	bool outbound = content_job_envelope(job)->outbound;
	char detail[300], reply[200];
	snprintf(detail, sizeof(detail), "%s encrypted content in %s: %s (%s policy)", encryption_name(k), where,
		 action_names[a], outbound ? "outbound" : "inbound");
	switch (a) {
	case SCAN_ENCRYPTION_ALLOW:
	case SCAN_ENCRYPTION_TAG:
		content_symbol(job, symbol, 0, detail);
		break;
	case SCAN_ENCRYPTION_QUARANTINE:
		content_hold(job, symbol, 0, detail, false);
		break;
	case SCAN_ENCRYPTION_REFUSE:
		snprintf(reply, sizeof(reply), "554 5.7.0 Message refused: encrypted content (%s) cannot be scanned",
			 encryption_name(k));
		content_refuse(job, symbol, detail, reply);
		break;
	}
}

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct mime_message *m = content_job_mime(job, msg, len);
	bool seen[ENCRYPTION_KINDS] = { false }, decided = false;
	char names[128] = "";  /* the kinds found, for the tag's header */
	enum scan_encryption_action a = SCAN_ENCRYPTION_TAG;
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mime_part *p = &m->parts[i];
		enum encryption_kind k = encryption_of_part(p->type, p->filename, p->data, p->len);
		if (k == ENCRYPTION_NONE || seen[k])
			continue;
		seen[k] = true;
		if (!decided)  /* the envelope is looked at only for mail that has something encrypted */
			a = policy_of(job);
		decided = true;
		char where[160];
		snprintf(where, sizeof(where), "part %zu (%s)", i + 1, p->type);
		apply(job, k, a, where);
		size_t used = strlen(names);
		snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", encryption_name(k));
	}
	if (decided && a == SCAN_ENCRYPTION_TAG) {
		char field[200];
		snprintf(field, sizeof(field), "X-Mailwarden-Encrypted: %s (content not scanned)\r\n", names);
		content_add_headers(job, field);
	}
}

const struct content_check content_check_encryption = {
	.name = "encryption",
	.default_reply = "554 5.7.0 Message refused: encrypted content cannot be scanned",
	.run = run,
};
