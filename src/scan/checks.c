/*
 * The registry of scanner checks, in running order. A new check is one
 * file (check_<name>.c) and one line here. Order matters: the allow/deny
 * list first (an allow-listed client skips the reputation checks), local
 * zones before anything that sends a query (a local refusal sends none).
 */
#include "scan/scan.h"
#include "util/metrics.h"

extern const struct scan_check scan_check_iplist, scan_check_rbl_file, scan_check_dnsbl,
	scan_check_rdns, scan_check_fcrdns, scan_check_helo, scan_check_sender_domain,
	scan_check_spf, scan_check_recipient, scan_check_callout,
	scan_check_greylist, scan_check_domain_file;

const struct scan_check *const scan_checks[] = {
	&scan_check_iplist,
	&scan_check_rbl_file,
	&scan_check_dnsbl,
	&scan_check_rdns,
	&scan_check_fcrdns,
	&scan_check_helo,
	&scan_check_domain_file,
	&scan_check_sender_domain,
	&scan_check_spf,
	&scan_check_recipient,
	&scan_check_callout,
	&scan_check_greylist,
};

const size_t scan_n_checks = sizeof(scan_checks) / sizeof(scan_checks[0]);
_Static_assert(sizeof(scan_checks) / sizeof(scan_checks[0]) <= METRICS_SMTP_CHECKS,
	       "util/metrics.h: METRICS_SMTP_CHECKS must hold every smtpd check");
