/*
 * YARA (issue 12, SCAN-6, BSI M 5.109's second engine): the rules of
 * scan.yara (content/yara.h), compiled by the scanner at start, matched
 * against every decoded leaf part of the MIME view. Not against the raw
 * message as well: a rule written for a file would then also fire on a
 * mail that only quotes it in a text part's source form, and the
 * transfer encodings hide nothing from the decoded parts. Symbol
 * YARA_<rule>; policy key scan.<direction>.checks.yara (refuse when
 * scan.yara is set; the demo configuration ships rules/yara).
 */
#include "config/config.h"
#include "content/check.h"
#include "content/malware.h"
#include "content/yara.h"
#include "scan/policy.h"

static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct yara_engine *y = content_job_yara(job);
	if (!y)
		return;
	const struct scan_config *sc = content_job_config(job)->scan;
	const struct malware_engine yara = {
		.name = "yara",
		.symbol_prefix = "YARA_",
		.unscanned_symbol = "YARA_UNSCANNED",
		.scan = yara_engine_scan,
		.ctx = y,
		.fail_open = sc && sc->yara && sc->yara->fail_open,
		.budget_ms = YARA_SCAN_TIMEOUT_S * 1000,
		.whole_message = false,
	};
	malware_check_message(job, msg, len, &yara);
}

const struct content_check content_check_yara = {
	.name = "yara",
	.default_reply = "554 5.7.0 Message refused: malware found",
	.can_strip = true,
	.run = run,
};
