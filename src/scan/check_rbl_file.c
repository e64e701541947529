/*
 * Local DNSBL copies (SCAN-3): rbldnsd zone files looked up in memory, so
 * no client address leaves the gateway. Each listing zone is a hit with
 * the zone's points; the reply quotes the zone's text ("$" = the address).
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "scan/data.h"
#include "scan/scan.h"
#include "scan/zone.h"

static void rbl_file_connect(struct scan_job *job)
{
	const struct scan_data *d = scan_process_data();
	const struct scan_config *sc = scan_job_scan_config(job);
	struct scan_facts *f = scan_job_facts(job);
	for (size_t i = 0; d && i < d->n_zones && i < sc->n_rbl_files; i++) {
		const char *a, *txt;
		if (!zone_lookup(d->zones[i], (const struct sockaddr *)&f->client, &a, &txt))
			continue;
		char text[160] = "", detail[300];
		for (size_t o = 0; txt && *txt && o + 1 < sizeof(text); txt++) {
			if (*txt == '$') {
				int n = snprintf(text + o, sizeof(text) - o, "%s", f->client_ip);
				o += n > 0 ? (size_t)n : 0;
				if (o >= sizeof(text))
					break;
			} else {
				text[o++] = *txt;
				text[o] = '\0';
			}
		}
		snprintf(detail, sizeof(detail), "client [%s] listed in %s%s%s", f->client_ip,
			 sc->rbl_files[i].name, text[0] ? ": " : "", text);
		scan_hit(job, "RBL_FILE", sc->rbl_files[i].points, detail);
	}
	scan_job_done(job);
}

const struct scan_check scan_check_rbl_file = {
	.name = "rbl_file",
	.default_reply = "554 5.7.1 Service unavailable",
	.reputation = true,
	.stage = { [SCAN_STAGE_CONNECT] = rbl_file_connect },
};
