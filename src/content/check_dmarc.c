/*
 * DMARC (RFC 7489): the From domain's policy applied to the DKIM results
 * (content_job_dkim) and smtpd's SPF result, both aligned with the From
 * domain by libopendmarc (content/dmarclib.h). Policy key
 * scan.<direction>.checks.dmarc: a failing message whose domain asks for
 * p=reject hits DMARC_REJECT, which refuses under "refuse" or adds the
 * check's points under "score"; p=quarantine gives DMARC_QUAR with the
 * check's points (never a refusal: the score thresholds decide, so it
 * lands in quarantine when they say so). The other symbols only inform:
 * DMARC_PASS, DMARC_NONE (p=none), DMARC_MISSING (no record),
 * DMARC_TEMPERROR (the record could not be fetched: never a refusal),
 * DMARC_PERMERROR. The sampling tag pct= is not applied: a policy
 * counts for every message. The result goes into Authentication-Results.
 */
#include <stdio.h>
#include <string.h>

#include "content/authdns.h"
#include "content/check.h"
#include "content/dkimlib.h"
#include "content/dmarclib.h"
#include "ipc/txn.h"

static void report(struct content_job *job, const struct authdns *dns, const struct dmarclib_verdict *d)
{
	char line[400];
	if (!dns->from_domain[0]) {
		content_auth_result(job, "dmarc=none");
		return;
	}
	snprintf(line, sizeof(line), "dmarc=%s%s%s%s header.from=%s", dmarclib_result_name(d->result),
		 d->policy ? " (p=" : "", d->policy ? d->policy : "", d->policy ? ")" : "", dns->from_domain);
	content_auth_result(job, line);
}

static void score_failure(struct content_job *job, const char *policy)
{
	if (strcmp(policy, "reject") == 0)
		content_hit(job, "DMARC_REJECT", -1, "DMARC fails; the domain's policy is reject");
	else if (strcmp(policy, "quarantine") == 0)
		content_symbol(job, "DMARC_QUAR", content_check_points(job),
			       "DMARC fails; the domain's policy is quarantine");
	else
		content_symbol(job, "DMARC_NONE", 0, "DMARC fails; the domain's policy is none");
}

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct dkimlib_verdict *v = content_job_dkim(job, msg, len);
	const struct authdns *dns = content_job_authdns(job);
	if (!v)
		return;
	const struct ipc_scan_request *req = content_job_envelope(job);
	struct dmarclib_verdict d;
	dmarclib_evaluate(dns, v, req->spf, req->spf_domain, req->client, &d);
	report(job, dns, &d);
	switch (d.result) {
	case DMARCLIB_PASS:
		content_symbol(job, "DMARC_PASS", 0, "DMARC passes");
		break;
	case DMARCLIB_FAIL:
		score_failure(job, d.policy ? d.policy : "none");
		break;
	case DMARCLIB_NONE:
		if (dns->from_domain[0])
			content_symbol(job, "DMARC_MISSING", 0, "the From domain publishes no DMARC policy");
		break;
	case DMARCLIB_TEMPERROR:
		content_symbol(job, "DMARC_TEMPERROR", 0, "the DMARC policy could not be fetched");
		break;
	case DMARCLIB_PERMERROR:
		content_symbol(job, "DMARC_PERMERROR", 0, "the DMARC policy record does not parse");
		break;
	}
}

const struct content_check content_check_dmarc = {
	.name = "dmarc",
	.default_reply = "550 5.7.1 Message refused: the sender's domain (DMARC policy) says to reject it",
	.run = run,
};
