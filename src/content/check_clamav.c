/*
 * ClamAV (issue 12, SCAN-6, BSI M 5.109's first engine) through clamd
 * (content/clamd.h), when scan.clamd names it. With scope all (the
 * default) the raw message goes to clamd once: clamd's own mail parser
 * decodes every part and its mail-specific signatures (HTML, phishing,
 * Email.*) see the message as sent. Then every decoded leaf part of our
 * MIME view that is not inline text (attachments, any other type) goes
 * to clamd alone, so a file that clamd's parser reads differently from
 * ours (broken MIME) is not missed by either view; so do the salvage
 * view's hidden blobs. The inline text is left to the first scan: each
 * clamd scan costs some 5 ms of clamd's time whatever its size
 * (bench/malware_cpu.sh). With scope attachments the raw message is not
 * sent (the inline text is never scanned by clamd), only those parts
 * and blobs: rspamd's default, and much less of clamd's time for mail
 * without attachments. Symbol CLAM_VIRUS_<name>; policy key
 * scan.<direction>.checks.clamav (refuse when scan.clamd is set).
 */
#include "config/config.h"
#include "content/check.h"
#include "content/clamd.h"
#include "content/malware.h"
#include "scan/policy.h"

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct scan_config *sc = content_job_config(job)->scan;
	if (!sc || !sc->clamd)
		return;
	const struct malware_engine clamd = {
		.name = "clamav",
		.symbol_prefix = "CLAM_VIRUS_",
		.unscanned_symbol = "CLAM_UNSCANNED",
		.symbol_drop_suffix = ".UNOFFICIAL",
		.scan = clamd_scan,
		.ctx = &sc->clamd->target,
		.fail_open = sc->clamd->fail_open,
		.budget_ms = sc->clamd->target.timeout_ms,
		.whole_message = sc->clamd->scope == CLAMD_SCOPE_ALL,
		.skip_inline_text = true,
		/* clamd unpacks zip, 7z, rar, tar, cab, ... itself (its
		 * ScanArchive, on by default, with its own size and recursion
		 * limits): the parts go to it packed. */
		.unpacks_archives = true,
	};
	malware_check_message(job, msg, len, &clamd);
}

const struct content_check content_check_clamav = {
	.name = "clamav",
	.default_reply = "554 5.7.0 Message refused: malware found",
	.can_strip = true,
	.run = run,
};
