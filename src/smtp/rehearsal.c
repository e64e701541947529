/*
 * Rehearsing an emergency level in smtpd: see rehearsal.h.
 */
#include "smtp/rehearsal.h"

#include <stdio.h>

#include "config/config.h"
#include "ipc/txn.h"
#include "scan/scan.h"
#include "smtp/session.h"
#include "smtp/smtpd_internal.h"
#include "util/log.h"

static void would_refuse(struct smtp_session *s, const char *limit)
{
	log_event(LOG_INFO, "rehearsal", "session", s->id, "client", s->client_ip, "name",
		  s->smtpd->config->emergency.levels[s->rehearse].name, "would", "refuse", "by", limit, NULL);
	if (s->txn && !s->txn->rehearsal[0])
		snprintf(s->txn->rehearsal, sizeof(s->txn->rehearsal), "%s", limit);
}

void smtp_rehearse_connect(struct smtp_session *s, unsigned from_ip)
{
	if (s->rehearse_cfg && from_ip > s->rehearse_cfg->limits.connections_per_ip)
		would_refuse(s, "limits.connections_per_ip");
}

void smtp_rehearse_rcpt(struct smtp_session *s)
{
	if (s->rehearse_cfg && s->txn && s->txn->n_rcpts >= s->rehearse_cfg->limits.recipients)
		would_refuse(s, "limits.recipients");
}

void smtp_rehearse_partners(struct smtp_session *s, const char *rcpt)
{
	log_event(LOG_INFO, "rehearsal", "session", s->id, "client", s->client_ip, "name",
		  s->smtpd->config->emergency.levels[s->rehearse].name, "would", "defer", "by", "partners_only",
		  "to", rcpt, "reply", "450 4.7.1", NULL);
	if (s->txn && !s->txn->rehearsal[0])
		snprintf(s->txn->rehearsal, sizeof(s->txn->rehearsal), "%s", "partners_only");
}

void smtp_rehearse_eom(struct smtp_session *s, struct ipc_eom *e)
{
	if (!s->rehearse_cfg || !s->txn)
		return;
	if (s->txn->msg.size > s->rehearse_cfg->limits.message_size)
		would_refuse(s, "limits.message_size");
	/* A check the rehearsed level would make refuse (logged as it hit). */
	const char *by_check = scan_session_rehearsal(s->scan);
	if (!s->txn->rehearsal[0] && by_check[0])
		snprintf(s->txn->rehearsal, sizeof(s->txn->rehearsal), "%s", by_check);
	e->rehearse = s->rehearse;
	snprintf(e->rehearsal, sizeof(e->rehearsal), "%s", s->txn->rehearsal);
}
