/*
 * Recipient exists (SCAN-4): a recipient in a domain the recipient table
 * covers must be listed (as an address, or by an "@domain" catch-all).
 * Domains the table does not mention are not judged here.
 */
#include <stdio.h>

#include "scan/data.h"
#include "scan/scan.h"

static void recipient_rcpt(struct scan_job *job)
{
	const struct scan_data *d = scan_process_data();
	struct scan_facts *f = scan_job_facts(job);
	bool covered;
	if (d && f->rcpt[0] && !scan_data_rcpt_known(d, f->rcpt, &covered) && covered) {
		char detail[700];
		snprintf(detail, sizeof(detail), "<%s>: Recipient address rejected: User unknown", f->rcpt);
		scan_hit(job, "RCPT_UNKNOWN", -1, detail);
	}
	scan_job_done(job);
}

const struct scan_check scan_check_recipient = {
	.name = "recipient",
	.default_reply = "550 5.1.1 Recipient unknown",
	.stage = { [SCAN_STAGE_RCPT] = recipient_rcpt },
};
