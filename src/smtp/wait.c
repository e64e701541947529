/*
 * The session's wait state: see wait.h. Runs in smtpd.
 */
#include "smtp/wait.h"

#include "net/conn.h"
#include "util/log.h"

static const char *kind_names[SMTP_PENDING_COUNT] = {
	[SMTP_PENDING_NONE] = "none",
	[SMTP_PENDING_GREET_DELAY] = "greet_delay",
	[SMTP_PENDING_SCAN] = "scan",
	[SMTP_PENDING_TLS] = "tls",
	[SMTP_PENDING_AUTH_CHECK] = "auth_check", [SMTP_PENDING_AUTH_DELAY] = "auth_delay",
	[SMTP_PENDING_QUEUE_OPEN] = "queue_open",
	[SMTP_PENDING_BACKLOG] = "backlog",
	[SMTP_PENDING_DRAIN] = "drain",
	[SMTP_PENDING_VERDICT] = "verdict",
};

static const char *status_names[] = {
	[SMTP_RESULT_OK] = "ok",
	[SMTP_RESULT_REFUSED] = "refused",
	[SMTP_RESULT_DISCARDED] = "discarded",
	[SMTP_RESULT_FAILED] = "failed",
	[SMTP_RESULT_EXPIRED] = "expired",
};

const char *smtp_pending_kind_name(enum smtp_pending_kind kind)
{
	return kind < SMTP_PENDING_COUNT ? kind_names[kind] : "invalid";
}

enum smtp_pending_kind smtp_session_waiting(const struct smtp_session *s)
{
	return s->state == SMTP_STATE_WAIT ? s->pending.kind : SMTP_PENDING_NONE;
}

/* The connection has one timer: every wait arms it anew, so when it fires
 * in SMTP_STATE_WAIT it is the deadline of the current wait. */
static void wait_expired(void *arg)
{
	struct smtp_session *s = arg;
	if (s->state != SMTP_STATE_WAIT)
		return;  /* the deadline of a wait that has ended */
	smtp_session_resume(s, s->pending.kind, &(struct smtp_result){ .status = SMTP_RESULT_EXPIRED, .fd = -1 });
}

void smtp_session_wait(struct smtp_session *s, enum smtp_pending_kind kind, const struct smtp_cont *cont,
		       unsigned deadline)
{
	s->pending = (struct smtp_pending){ .kind = kind, .cont = *cont, .deadline = deadline, .from = s->state };
	log_event(LOG_DEBUG, "wait", "session", s->id, "kind", smtp_pending_kind_name(kind),
		  "deadline", log_u64(deadline), NULL);
	smtp_session_set_state(s, SMTP_STATE_WAIT);  /* pauses input, stops the read timeout */
	conn_after(s->conn, deadline, wait_expired);
}

bool smtp_session_resume(struct smtp_session *s, enum smtp_pending_kind kind, const struct smtp_result *r)
{
	if (smtp_session_waiting(s) != kind || kind == SMTP_PENDING_NONE) {
		log_event(LOG_DEBUG, "wait_ignored", "session", s->id, "kind", smtp_pending_kind_name(kind),
			  "waiting", smtp_pending_kind_name(smtp_session_waiting(s)), NULL);
		return false;
	}
	struct smtp_pending p = s->pending;
	s->pending.kind = SMTP_PENDING_NONE;
	log_event(LOG_DEBUG, "resume", "session", s->id, "kind", smtp_pending_kind_name(kind),
		  "result", status_names[r->status], NULL);
	smtp_session_set_state(s, p.from);
	conn_resume(s->conn);
	p.cont.fn(s, &p.cont, r);
	return true;
}

void smtp_session_wait_cancel(struct smtp_session *s)
{
	if (s->state != SMTP_STATE_WAIT)
		return;
	log_event(LOG_DEBUG, "wait_cancelled", "session", s->id, "kind", smtp_pending_kind_name(s->pending.kind), NULL);
	s->pending.kind = SMTP_PENDING_NONE;
}
