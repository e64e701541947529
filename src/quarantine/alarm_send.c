/*
 * keeper_outbound_malware (keeper.h): SCAN-9's log line and alarm mail.
 * The mail (quarantine/alarm.h) is queued like the quarantine digest and
 * the DSNs: spool_inject into queue/, delivered by the scheduler through
 * the normal routes, never scanned. Runs in the queue process's main
 * thread; the rate table lives in the keeper, in this process's memory.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "quarantine/alarm.h"
#include "quarantine/keeper_impl.h"
#include "queue/envelope.h"
#include "queue/local_mail.h"
#include "scan/policy.h"
#include "util/alloc.h"
#include "util/log.h"

/* Queue the alarm mail; its queue id, or false. */
static bool queue_alarm(struct keeper *k, const struct config *c, const struct scan_malware_alarm *cfg,
			const struct keeper_alarm *a, char *id, size_t idcap)
{
	char from[300], msgid[400];
	if (cfg->from)
		snprintf(from, sizeof(from), "%s", cfg->from);
	else
		snprintf(from, sizeof(from), "postmaster@%s", c->hostname);
	local_mail_message_id(msgid, sizeof(msgid), "alarm", c->hostname);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return false;
	struct alarm_mail m = { .hostname = c->hostname, .from = from, .to = cfg->to, .message_id = msgid,
				.now = time(NULL), .interval = cfg->interval, .queue_id = a->queue_id,
				.client = a->client, .helo = a->helo, .login = a->login, .sender = a->sender,
				.finding = a->finding, .held = a->held };
	alarm_write(out, &m);
	/* 8BITMIME: the finding and names are written as they came. */
	bool ok = fclose(out) == 0 && local_mail_queue(k->spool, k->sch, c->hostname, from, cfg->to,
						       ENVELOPE_F_8BITMIME, text, len, id, idcap);
	free(text);
	return ok;
}

void keeper_outbound_malware(struct keeper *k, const struct config *c, const struct keeper_alarm *a)
{
	log_event(LOG_WARNING, "outbound_malware", "queue_id", a->queue_id, "client", a->client, "helo", a->helo,
		  "login", a->login[0] ? a->login : "-", "from", a->sender[0] ? a->sender : "<>", "finding",
		  a->finding, "action", a->held ? "held" : "refused", NULL);
	const struct scan_malware_alarm *cfg = c->scan ? c->scan->malware_alarm : NULL;
	if (!cfg || !cfg->to)
		return;
	if (!k->alarms)
		k->alarms = xcalloc(1, sizeof(*k->alarms));
	const char *who = a->login[0] ? a->login : a->sender[0] ? a->sender : "<>";
	if (!alarm_rate_due(k->alarms, who, time(NULL), cfg->interval)) {
		log_event(LOG_INFO, "malware_alarm_suppressed", "queue_id", a->queue_id, "sender", who, "msg",
			  "an alarm for this sender was sent within scan.malware_alarm.interval", NULL);
		return;
	}
	char id[64] = "";
	if (queue_alarm(k, c, cfg, a, id, sizeof(id)))
		log_event(LOG_WARNING, "malware_alarm", "queue_id", id, "held", a->queue_id, "to", cfg->to, "sender",
			  who, NULL);
	else
		log_event(LOG_ERR, "malware_alarm_failed", "held", a->queue_id, "to", cfg->to, "msg",
			  "the alarm mail could not be queued", NULL);
}
