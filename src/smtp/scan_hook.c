/*
 * Session side of the scanner. See scan_hook.h. Runs in smtpd.
 */
#include "smtp/scan_hook.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "ipc/channel.h"
#include "net/conn.h"
#include "smtp/smtpd_internal.h"
#include "util/log.h"

static void on_stage_done(void *arg, bool refused, const char *reply)
{
	struct smtp_session *s = arg;
	smtp_scan_then then = s->scan_then;
	s->scan_then = NULL;
	if (s->scan_pending) {
		s->scan_pending = false;
		if (s->state != SMTP_STATE_SCAN_WAIT)
			return;  /* closed meanwhile (timeout, shutdown): nothing to answer */
		smtp_session_set_state(s, s->scan_resume);
		conn_resume(s->conn);
	}
	then(s, refused ? reply : NULL);
}

void smtp_scan_stage(struct smtp_session *s, enum scan_stage stage, smtp_scan_then then)
{
	if (!s->scan) {
		then(s, NULL);
		return;
	}
	struct scan_facts *f = scan_session_facts(s->scan);
	if (stage == SCAN_STAGE_HELO)
		snprintf(f->helo, sizeof(f->helo), "%s", s->helo);
	if (stage == SCAN_STAGE_MAIL && s->txn) {
		scan_message_reset(s->scan);
		snprintf(f->sender, sizeof(f->sender), "%s", s->txn->sender_text);
	}
	s->scan_then = then;
	s->scan_pending = false;
	scan_run(s->scan, stage, on_stage_done, s);
	if (s->scan_then) {  /* still running: wait without reading input */
		s->scan_pending = true;
		s->scan_resume = s->state;
		smtp_session_set_state(s, SMTP_STATE_SCAN_WAIT);
	}
}

/* The recipient being scanned lives in the scanner's facts meanwhile. */
static void rcpt_scanned(struct smtp_session *s, const char *refusal)
{
	struct scan_facts *f = scan_session_facts(s->scan);
	char rcpt[sizeof(f->rcpt)];
	snprintf(rcpt, sizeof(rcpt), "%s", f->rcpt);
	f->rcpt[0] = '\0';
	s->scan_rcpt_then(s, rcpt, refusal);
}

void smtp_scan_rcpt(struct smtp_session *s, const char *rcpt, smtp_scan_rcpt_then then)
{
	if (!s->scan) {
		then(s, rcpt, NULL);
		return;
	}
	s->scan_rcpt_then = then;
	snprintf(scan_session_facts(s->scan)->rcpt, sizeof(scan_session_facts(s->scan)->rcpt), "%s", rcpt);
	smtp_scan_stage(s, SCAN_STAGE_RCPT, rcpt_scanned);
}

/* The 220, unless the client has already sent something (issue 18 item 1). */
static void greet_now(struct smtp_session *s)
{
	if (smtp_session_out_of_sync(s, "CONNECT"))
		return;
	smtp_session_reply(s, "220 %s ESMTP mailwarden", s->smtpd->config->hostname);
}

static void greet_delay_over(void *arg)
{
	struct smtp_session *s = arg;
	greet_now(s);
	if (s->state != SMTP_STATE_CLOSING)
		conn_resume(s->conn);
}

static void greet(struct smtp_session *s, const char *refusal)
{
	if (refusal) {
		/* RFC 5321 3.1: a 554 greeting; we do not wait for the client's QUIT. */
		log_event(LOG_INFO, "reject", "session", s->id, "client", s->client_ip, "command", "CONNECT",
			  "reply", refusal, NULL);
		smtp_session_close(s, "%s", refusal);
		return;
	}
	if (s->lcfg && s->lcfg->greet_delay > 0) {
		/* Like postscreen's pregreet test: a client that talks before
		 * the greeting is no SMTP client (RFC 5321 3.1). Input is only
		 * held back meanwhile; greet_now looks at it. */
		conn_pause(s->conn);
		conn_after(s->conn, s->lcfg->greet_delay, greet_delay_over);
		return;
	}
	greet_now(s);
}

void smtp_scan_connect(struct smtp_session *s)
{
	const struct config *c = s->smtpd->config;
	const struct sockaddr *sa = (const struct sockaddr *)&s->client_addr;
	/* Outbound: mail from the trusted networks (SCAN-1), with its own policy. */
	bool outbound = smtp_session_trusted(s);
	s->scan = scan_session_new(c, sa, s->client_ip, outbound);
	if (s->scan)
		scan_session_facts(s->scan)->auth_possible = s->lcfg && s->lcfg->auth != LISTENER_AUTH_OFF;
	smtp_scan_stage(s, SCAN_STAGE_CONNECT, greet);
}

void smtp_scan_session_end(struct smtp_session *s)
{
	scan_session_free(s->scan);
	s->scan = NULL;
}

void smtp_scan_eom(struct smtp_session *s, struct ipc_eom *e)
{
	if (!s->scan)
		return;  /* no scan section: no symbols, the queue accepts */
	scan_eom_facts(s->scan, e);
}
