/*
 * Session side of the scanner. See scan_hook.h. Runs in smtpd.
 */
#include "smtp/scan_hook.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "ipc/channel.h"
#include "smtp/smtpd_internal.h"
#include "smtp/wait.h"
#include "util/log.h"

/* The stage's result goes to the command that ran it. A stage that takes
 * longer than the command timeout (its DNS never answers) ends the session
 * as the client's own silence would. */
static void stage_done(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	if (r->status == SMTP_RESULT_EXPIRED)
		smtp_session_timed_out(s, SMTP_PENDING_SCAN);
	else
		c->u.scan(s, r->status == SMTP_RESULT_REFUSED ? r->text : NULL);
}

/* From the scanner; after the session gave up (closed) it is ignored. */
static void on_stage_done(void *arg, bool refused, const char *reply)
{
	struct smtp_result r = { .status = refused ? SMTP_RESULT_REFUSED : SMTP_RESULT_OK, .text = reply, .fd = -1 };
	smtp_session_resume(arg, SMTP_PENDING_SCAN, &r);
}

static void run_stage(struct smtp_session *s, enum scan_stage stage, const struct smtp_cont *cont)
{
	struct scan_facts *f = scan_session_facts(s->scan);
	if (stage == SCAN_STAGE_HELO)
		snprintf(f->helo, sizeof(f->helo), "%s", s->helo);
	if (stage == SCAN_STAGE_MAIL && s->txn) {
		scan_message_reset(s->scan);
		snprintf(f->sender, sizeof(f->sender), "%s", s->txn->sender_text);
	}
	smtp_session_wait(s, SMTP_PENDING_SCAN, cont, s->cfg->limits.command_timeout);
	scan_run(s->scan, stage, on_stage_done, s);  /* may answer at once */
}

void smtp_scan_stage(struct smtp_session *s, enum scan_stage stage, smtp_scan_then then)
{
	if (!s->scan) {
		then(s, NULL);
		return;
	}
	run_stage(s, stage, &(struct smtp_cont){ .fn = stage_done, .u.scan = then });
}

/* The recipient being scanned lives in the scanner's facts meanwhile. */
static void rcpt_scanned(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	struct scan_facts *f = scan_session_facts(s->scan);
	char rcpt[sizeof(f->rcpt)];
	snprintf(rcpt, sizeof(rcpt), "%s", f->rcpt);
	f->rcpt[0] = '\0';
	if (r->status == SMTP_RESULT_EXPIRED)
		smtp_session_timed_out(s, SMTP_PENDING_SCAN);
	else
		c->u.scan_rcpt(s, rcpt, r->status == SMTP_RESULT_REFUSED ? r->text : NULL);
}

void smtp_scan_rcpt(struct smtp_session *s, const char *rcpt, smtp_scan_rcpt_then then)
{
	if (!s->scan) {
		then(s, rcpt, NULL);
		return;
	}
	snprintf(scan_session_facts(s->scan)->rcpt, sizeof(scan_session_facts(s->scan)->rcpt), "%s", rcpt);
	run_stage(s, SCAN_STAGE_RCPT, &(struct smtp_cont){ .fn = rcpt_scanned, .u.scan_rcpt = then });
}

/* The 220, unless the client has already sent something (issue 18 item 1). */
static void greet_now(struct smtp_session *s)
{
	if (smtp_session_out_of_sync(s, "CONNECT"))
		return;
	smtp_session_reply(s, "220 %s ESMTP mailwarden", s->cfg->hostname);
}

/* The greet delay is the wait's deadline: its end is the greeting. */
static void greet_delay_over(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	greet_now(s);
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
		smtp_session_wait(s, SMTP_PENDING_GREET_DELAY, &(struct smtp_cont){ .fn = greet_delay_over },
				  s->lcfg->greet_delay);
		return;
	}
	greet_now(s);
}

void smtp_scan_connect(struct smtp_session *s)
{
	const struct config *c = s->cfg;
	const struct sockaddr *sa = (const struct sockaddr *)&s->client_addr;
	/* Outbound: mail from the trusted networks (SCAN-1), with its own policy. */
	bool outbound = smtp_session_trusted(s);
	s->scan = scan_session_new(c, sa, s->client_ip, outbound);
	if (s->scan) {
		scan_session_facts(s->scan)->auth_possible = s->lcfg && s->lcfg->auth != LISTENER_AUTH_OFF;
		scan_session_rehearse(s->scan, s->rehearse_cfg);  /* SCAN-11: NULL when nothing is rehearsed */
	}
	smtp_scan_stage(s, SCAN_STAGE_CONNECT, greet);
}

void smtp_scan_session_end(struct smtp_session *s)
{
	scan_session_free(s->scan);
	s->scan = NULL;
}

static bool host_name_ok(const char *name)
{
	if (!name[0])
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.' || *p == '_'))
			return false;
	return true;
}

const char *smtp_scan_client_name(struct smtp_session *s)
{
	if (!s->scan)
		return NULL;
	const struct scan_facts *f = scan_session_facts(s->scan);
	if (!f->iprev && !f->ptr[0])
		return NULL;
	if (f->iprev && strcmp(f->iprev, "pass") == 0 && host_name_ok(f->ptr))
		return f->ptr;
	return "unknown";
}

void smtp_scan_eom(struct smtp_session *s, struct ipc_eom *e)
{
	if (!s->scan)
		return;  /* no scan section: no symbols, the queue accepts */
	scan_eom_facts(s->scan, e);
}
