/*
 * Local DNSBL copies (SCAN-3): rbldnsd zone files looked up in memory, so
 * no client address leaves the gateway. Each listing zone is a hit with
 * the zone's points; the reply quotes the zone's text ("$" = the address).
 *
 * A zone marked exempt_authenticated is a policy list (dynamic ranges):
 * on a listener that offers AUTH it is looked up at MAIL instead of at
 * connect, and not at all for a client that logged in, so a road warrior
 * on a dynamic address can still submit (issue 18 item 8). On a listener
 * without AUTH it applies at connect like any zone.
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "scan/data.h"
#include "scan/scan.h"
#include "scan/zone.h"

/* Does zone i belong to this stage? */
static bool zone_now(const struct scan_rbl_file *z, const struct scan_facts *f, enum scan_stage stage)
{
	bool deferred = z->exempt_authenticated && f->auth_possible;
	if (stage == SCAN_STAGE_CONNECT)
		return !deferred;
	return deferred && !f->authenticated;
}

static void rbl_file_lookup(struct scan_job *job, enum scan_stage stage)
{
	const struct scan_data *d = scan_process_data();
	const struct scan_config *sc = scan_job_scan_config(job);
	struct scan_facts *f = scan_job_facts(job);
	for (size_t i = 0; d && i < d->n_zones && i < sc->n_rbl_files; i++) {
		const char *a, *txt;
		if (!zone_now(&sc->rbl_files[i], f, stage))
			continue;
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
		scan_hit_points(job, "RBL_FILE", sc->rbl_files[i].points, detail);
	}
	scan_job_done(job);
}

static void rbl_file_connect(struct scan_job *job)
{
	rbl_file_lookup(job, SCAN_STAGE_CONNECT);
}

static void rbl_file_mail(struct scan_job *job)
{
	rbl_file_lookup(job, SCAN_STAGE_MAIL);
}

const struct scan_check scan_check_rbl_file = {
	.name = "rbl_file",
	.default_reply = "554 5.7.1 Service unavailable",
	.reputation = true,
	.stage = { [SCAN_STAGE_CONNECT] = rbl_file_connect, [SCAN_STAGE_MAIL] = rbl_file_mail },
};
