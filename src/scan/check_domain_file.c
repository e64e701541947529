/*
 * Local domain blocklists (RHSBL, SCAN-3): rbldnsd dnset zone files
 * (rbl_files with type: dnset) checked without any query: the HELO name
 * and the client's reverse name at HELO, the sender's domain at MAIL.
 * Each listing is a hit with the zone's points.
 */
#include <stdio.h>
#include <string.h>

#include "scan/data.h"
#include "scan/dnset.h"
#include "scan/scan.h"

static void check_name(struct scan_job *job, const char *what, const char *symbol, const char *name)
{
	const struct scan_data *d = scan_process_data();
	const struct scan_config *sc = scan_job_scan_config(job);
	if (!name[0] || name[0] == '[')
		return;
	for (size_t i = 0; d && i < d->n_zones && i < sc->n_rbl_files; i++) {
		const char *txt;
		if (!dnset_lookup(d->dnsets[i], name, NULL, &txt))
			continue;
		char detail[700];
		snprintf(detail, sizeof(detail), "%s %s listed in %s%s%s", what, name, sc->rbl_files[i].name,
			 txt ? ": " : "", txt ? txt : "");
		scan_hit_points(job, symbol, sc->rbl_files[i].points, detail);
	}
}

static void domain_file_helo(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	check_name(job, "HELO name", "RHSBL_HELO", f->helo);
	check_name(job, "reverse name", "RHSBL_PTR", f->ptr);
	scan_job_done(job);
}

static void domain_file_mail(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	const char *at = strrchr(f->sender, '@');
	if (at)
		check_name(job, "sender domain", "RHSBL_SENDER", at + 1);
	scan_job_done(job);
}

const struct scan_check scan_check_domain_file = {
	.name = "domain_file",
	.default_reply = "554 5.7.1 Service unavailable",
	.stage = { [SCAN_STAGE_HELO] = domain_file_helo, [SCAN_STAGE_MAIL] = domain_file_mail },
};
