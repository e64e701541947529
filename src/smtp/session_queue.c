/*
 * The SMTP session's conversation with the queue (session.h): BEGIN and
 * OPEN for the message's pipe, its end (the pipe drained, END-OF-MESSAGE)
 * and the verdict as the reply. Every answer of the queue ends a wait of
 * the session (wait.h), and so does the deadline when the queue does not
 * answer (issue 10). Runs in smtpd.
 */
#include "smtp/rehearsal.h"
#include "smtp/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "ipc/channel.h"
#include "ipc/txn.h"
#include "net/conn.h"
#include "net/pipeout.h"
#include "smtp/scan_hook.h"
#include "smtp/smtpd_internal.h"
#include "smtp/wait.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"

#define QUEUE_WRITE_ERROR "451 4.3.0 Error: queue file write error, try again later"
#define QUEUE_NO_SPACE "452 4.3.1 Error: insufficient system storage, try again later"
/* The queue did not answer before the wait's deadline (issue 10): the
 * client hears it now rather than at its own timeout. */
#define QUEUE_NO_ANSWER "451 4.4.2 Error: no answer from the queue, try again later"

/* The queue failed the transaction, or did not answer in time: log why and
 * return the reply. */
static const char *queue_trouble(struct smtp_session *s, const struct smtp_result *r)
{
	bool expired = r->status == SMTP_RESULT_EXPIRED;
	log_event(LOG_WARNING, "queue_failed", "session", s->id, "reason",
		  expired ? "no answer from the queue in time" : r->text, NULL);
	if (expired)
		return QUEUE_NO_ANSWER;
	bool full = (s->txn && s->txn->spool_full) || (r->text && strcmp(r->text, IPC_REASON_NO_SPACE) == 0);
	return full ? QUEUE_NO_SPACE : QUEUE_WRITE_ERROR;
}

/* RFC 5321 4.4 trace header. The HELO name is client data: commands.c
 * admitted only printable ASCII without spaces, so it cannot break the header. */
static void received_header(struct smtp_session *s, const char *queue_id, char *out, size_t cap)
{
	struct smtp_txn *t = s->txn;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	/* RFC 3848: ESMTPS with TLS, ESMTPA with AUTH, ESMTPSA with both
	 * (and the UTF8SMTP forms of RFC 6531). */
	char with[16];
	bool authed = s->auth_user[0] != '\0';
	snprintf(with, sizeof(with), "%s%s%s", t->params.smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP",
		 s->tls && (s->esmtp || t->params.smtputf8) ? "S" : "",
		 authed && (s->esmtp || t->params.smtputf8) ? "A" : "");
	char tls_clause[200] = "", auth_clause[300] = "";
	if (s->tls) {
		const char *version, *cipher;
		int bits;
		conn_tls_info(s->conn, &version, &cipher, &bits);
		snprintf(tls_clause, sizeof(tls_clause), "\r\n\t(using %s with cipher %s (%d bits))",
			 version, cipher, bits);
	}
	/* The login is printable without spaces (sasl.c); named only if configured. */
	if (authed && s->cfg->auth.received_identity)
		snprintf(auth_clause, sizeof(auth_clause), "\r\n\t(Authenticated sender: %s)", s->auth_user);
	char for_clause[ADDRESS_PATH_MAX + 16] = "";
	if (t->n_rcpts == 1)
		snprintf(for_clause, sizeof(for_clause), "\r\n\tfor <%s>", t->rcpts[0]);
	/* The client's verified name as Postfix writes it, so that filters
	 * after us (and our own rules' X-Spam-Relays-*) see the reverse DNS:
	 * "(NAME [IP])" once forward-confirmed, "(unknown [IP])" when looked
	 * up in vain, "([IP])" when not looked up. */
	const char *name = smtp_scan_client_name(s);
	snprintf(out, cap, "Received: from %s (%s%s[%s])%s%s\r\n\tby %s (mailwarden) with %s id %s%s;\r\n\t%s\r\n",
		 s->helo[0] ? s->helo : "unknown", name ? name : "", name ? " " : "", s->client_ip, tls_clause, auth_clause,
		 s->cfg->hostname, with, queue_id, for_clause, date);
}

/* The queue's answer to OPEN: the pipe for the message, then 354 (DATA) or
 * the chunk's bytes (BDAT). */
static void queue_opened(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	struct smtp_txn *t = s->txn;
	if (r->status != SMTP_RESULT_OK) {
		smtp_session_reply(s, "%s", queue_trouble(s, r));
		if (c->u.bdat) {
			/* The chunk's bytes are on their way and must be read, not parsed as commands. */
			t->bdat_failed = true;
			smtp_session_set_state(s, SMTP_STATE_BDAT);
		} else {
			smtp_session_txn_reset(s);  /* ABORT, if the queue may still know it */
			smtp_session_set_state(s, SMTP_STATE_READY);
		}
		return;
	}
	char header[4096 + ADDRESS_PATH_MAX];
	received_header(s, r->text, header, sizeof(header));
	message_open(&t->msg, s->smtpd->base, r->fd, r->text, header);
	if (c->u.bdat) {
		smtp_session_set_state(s, SMTP_STATE_BDAT);
		return;
	}
	smtp_session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	smtp_session_set_state(s, SMTP_STATE_DATA);
}

void smtp_session_begin_data(struct smtp_session *s, bool bdat)
{
	struct smtp_txn *t = s->txn;
	struct channel *q = s->smtpd->queue;
	struct smtp_cont cont = { .fn = queue_opened, .u.bdat = bdat };
	if (!q) {  /* the queue is being restarted: nothing can be accepted now */
		queue_opened(s, &cont, &(struct smtp_result){ .status = SMTP_RESULT_FAILED, .text = "no queue", .fd = -1 });
		return;
	}
	struct ipc_msg *m = xmalloc(sizeof(*m));
	t->reqid = ++s->smtpd->next_reqid;
	uint32_t flags = (t->params.body == MAIL_BODY_8BITMIME ? IPC_TXN_F_8BITMIME : 0) |
			 (t->params.smtputf8 ? IPC_TXN_F_SMTPUTF8 : 0) |
			 (t->params.requiretls ? IPC_TXN_F_REQUIRETLS : 0);
	struct ipc_txn_begin *b = xcalloc(1, sizeof(*b));
	snprintf(b->session, sizeof(b->session), "%s", s->id);
	snprintf(b->client, sizeof(b->client), "%s", s->client_ip);
	snprintf(b->helo, sizeof(b->helo), "%s", s->helo);
	snprintf(b->sender, sizeof(b->sender), "%s", t->sender_text);
	b->size = t->params.has_size ? t->params.size : 0;
	b->flags = flags;
	ipc_txn_begin_encode(m, t->reqid, b);
	free(b);
	channel_send(q, m, -1);
	if (t->params.ret[0] || t->params.envid[0]) {
		ipc_txn_pair_encode(m, IPC_TXN_DSN, t->reqid, t->params.ret, t->params.envid);
		channel_send(q, m, -1);
	}
	for (unsigned i = 0; i < t->n_rcpts; i++) {
		ipc_txn_text_encode(m, IPC_TXN_RCPT, t->reqid, t->rcpts[i]);
		channel_send(q, m, -1);
		if (t->rcpt_dsn[i].notify[0] || t->rcpt_dsn[i].orcpt[0]) {
			ipc_txn_pair_encode(m, IPC_TXN_RCPT_DSN, t->reqid, t->rcpt_dsn[i].notify, t->rcpt_dsn[i].orcpt);
			channel_send(q, m, -1);
		}
	}
	t->queue_knows = true;
	smtp_session_wait(s, SMTP_PENDING_QUEUE_OPEN, &cont, s->cfg->limits.command_timeout);
	ipc_txn_empty_encode(m, IPC_TXN_OPEN, t->reqid);
	channel_send(q, m, -1);
	free(m);
}

void smtp_session_queue_opened(struct smtp_session *s, const char *queue_id, int fd)
{
	struct smtp_result r = { .status = SMTP_RESULT_OK, .text = queue_id, .fd = fd };
	if (!smtp_session_resume(s, SMTP_PENDING_QUEUE_OPEN, &r))
		close(fd);
}

/* The transaction is over, whatever the verdict: back to READY. */
static void verdict_answered(struct smtp_session *s)
{
	s->txn->queue_knows = false;  /* the message is the queue's now, or gone */
	smtp_session_txn_reset(s);
	smtp_session_set_state(s, SMTP_STATE_READY);
	if (s->smtpd->stopping)
		smtp_session_shutdown(s);
}

/* The queue's verdict is the reply to the end of the message (SEC-1). */
static void verdict_done(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	struct smtp_txn *t = s->txn;
	switch (r->status) {
	case SMTP_RESULT_OK:
		/* REL-4: every message with the client address and the AUTH identity. */
		log_event(LOG_INFO, "queued", "session", s->id, "queue_id", r->text, "from", t->sender_text,
			  "nrcpt", log_u64(t->n_rcpts), "size", log_u64(t->msg.size), "client", s->client_ip,
			  "auth", s->auth_user[0] ? s->auth_user : "-", "tls", s->tls ? "yes" : "no", NULL);
		smtp_session_reply(s, "250 2.0.0 Ok: queued as %s", r->text);
		break;
	case SMTP_RESULT_REFUSED:
		log_event(LOG_INFO, "reject", "session", s->id, "client", s->client_ip, "command", "DATA",
			  "reply", r->text, NULL);
		smtp_session_reply(s, "%s", r->text);
		break;
	case SMTP_RESULT_DISCARDED:
		/* Accepted towards the client, dropped by the queue (SCAN-8 "delete"). */
		smtp_session_reply(s, "250 2.0.0 Ok: queued as %s", r->text);
		break;
	case SMTP_RESULT_FAILED:
	case SMTP_RESULT_EXPIRED:
		/* Never 250 without the queue's word. A queue that answers
		 * late commits all the same (the ABORT finds it committing): at
		 * worst the client's retry is a duplicate, nothing is lost. */
		smtp_session_reply(s, "%s", queue_trouble(s, r));
		smtp_session_txn_reset(s);  /* ABORT, if the queue may still know it */
		smtp_session_set_state(s, SMTP_STATE_READY);
		return;
	}
	verdict_answered(s);
}

/* The whole message is in the pipe: END-OF-MESSAGE with what the dialogue
 * learnt; the queue decides and answers (SEC-1: smtpd makes no verdict). */
static void message_drained(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	struct smtp_txn *t = s->txn;
	if (r->status != SMTP_RESULT_OK) {
		/* The queue closed its end (it dropped the transaction, or is gone),
		 * or takes nothing any more. */
		smtp_session_reply(s, "%s", queue_trouble(s, r));
		smtp_session_txn_reset(s);  /* ABORT, in case the queue still knows it */
		smtp_session_set_state(s, SMTP_STATE_READY);
		return;
	}
	struct ipc_eom *e = xcalloc(1, sizeof(*e));
	e->size = t->msg.size;
	e->level = s->level;
	smtp_rehearse_eom(s, e);
	snprintf(e->auth, sizeof(e->auth), "%s", s->auth_user);
	smtp_scan_eom(s, e);
	struct ipc_msg *m = xmalloc(sizeof(*m));
	ipc_eom_encode(m, t->reqid, e);
	free(e);
	/* Waiting before the send: no answer can come earlier (channel_send
	 * never calls back), and none is missed. */
	smtp_session_wait(s, SMTP_PENDING_VERDICT, &(struct smtp_cont){ .fn = verdict_done },
			  s->cfg->limits.data_timeout);
	channel_send(s->smtpd->queue, m, -1);
	free(m);
	message_discard(&t->msg);  /* the queue has every byte; close our end */
}

static void message_written(void *arg, bool ok)
{
	struct smtp_result r = { .status = ok ? SMTP_RESULT_OK : SMTP_RESULT_FAILED,
				 .text = "the pipe to the queue broke", .fd = -1 };
	smtp_session_resume(arg, SMTP_PENDING_DRAIN, &r);
}

void smtp_session_end_of_message(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	enum message_error err = message_finish(&t->msg);
	const char *host = s->cfg->hostname;
	switch (err) {
	case MESSAGE_OK:
		break;
	case MESSAGE_TOO_BIG:
		metrics_count(M_REFUSED_SIZE);
		smtp_session_error(s, "552 5.3.4 Error: message too big (limit %llu octets)",
				   (unsigned long long)t->msg.limit);
		break;
	case MESSAGE_BARE_EOL:
		metrics_count(M_REFUSED_PROTOCOL);
		smtp_session_error(s, "550 5.5.2 %s Error: bare CR or LF in message data (RFC 5321 2.3.8)", host);
		break;
	case MESSAGE_LOOP:
		smtp_session_error(s, "554 5.4.6 %s Error: too many hops (more than %d Received or Delivered-To fields), "
				   "mail loop?", host, HOPS_MAX);
		break;
	case MESSAGE_FIELD_TOO_LONG:
		metrics_count(M_REFUSED_SIZE);
		smtp_session_error(s, "552 5.3.4 %s Error: a header field is longer than %u octets", host,
				   FIELD_SIZE_MAX);
		break;
	case MESSAGE_IO:
		smtp_session_reply(s, "%s", t->spool_full ? QUEUE_NO_SPACE
							  : "451 4.3.0 Error: local problem writing the message, try again later");
		break;
	}
	if (err != MESSAGE_OK) {
		if (s->state != SMTP_STATE_CLOSING) {
			smtp_session_txn_reset(s);
			smtp_session_set_state(s, SMTP_STATE_READY);
		}
		return;
	}
	struct smtp_cont cont = { .fn = message_drained };
	if (!t->queue_knows || !s->smtpd->queue) {
		/* The queue that took this message's start died meanwhile. */
		t->queue_knows = false;
		message_drained(s, &cont, &(struct smtp_result){ .status = SMTP_RESULT_FAILED,
								 .text = "queue restarted", .fd = -1 });
		return;
	}
	smtp_session_wait(s, SMTP_PENDING_DRAIN, &cont, s->cfg->limits.data_timeout);
	pipeout_when_drained(t->msg.out, message_written, s);
}

void smtp_session_queue_committed(struct smtp_session *s, const char *queue_id)
{
	smtp_session_resume(s, SMTP_PENDING_VERDICT,
			    &(struct smtp_result){ .status = SMTP_RESULT_OK, .text = queue_id, .fd = -1 });
}

void smtp_session_queue_refused(struct smtp_session *s, const char *reply)
{
	smtp_session_resume(s, SMTP_PENDING_VERDICT,
			    &(struct smtp_result){ .status = SMTP_RESULT_REFUSED, .text = reply, .fd = -1 });
}

void smtp_session_queue_discarded(struct smtp_session *s, const char *queue_id)
{
	smtp_session_resume(s, SMTP_PENDING_VERDICT,
			    &(struct smtp_result){ .status = SMTP_RESULT_DISCARDED, .text = queue_id, .fd = -1 });
}

/* The waits that an answer of the queue ends. While the message is still
 * streaming (BACKLOG) a broken pipe is found at its end instead. */
static bool waits_for_queue_answer(enum smtp_pending_kind kind)
{
	return kind == SMTP_PENDING_QUEUE_OPEN || kind == SMTP_PENDING_DRAIN || kind == SMTP_PENDING_VERDICT;
}

void smtp_session_queue_failed(struct smtp_session *s, const char *reason)
{
	enum smtp_pending_kind kind = smtp_session_waiting(s);
	/* A failure while the body still streams is answered at its end:
	 * remember whether it was for lack of space. */
	if (s->txn && strcmp(reason, IPC_REASON_NO_SPACE) == 0)
		s->txn->spool_full = true;
	if (!waits_for_queue_answer(kind)) {
		log_event(LOG_DEBUG, "wait_ignored", "session", s->id, "kind", "queue_failed",
			  "waiting", smtp_pending_kind_name(kind), NULL);
		return;
	}
	s->txn->queue_knows = false;  /* it said so, or it is gone */
	smtp_session_resume(s, kind, &(struct smtp_result){ .status = SMTP_RESULT_FAILED, .text = reason, .fd = -1 });
}

void smtp_session_queue_lost(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	if (!t || !t->queue_knows)
		return;
	if (waits_for_queue_answer(smtp_session_waiting(s))) {
		smtp_session_queue_failed(s, "queue restarted");
		return;
	}
	t->queue_knows = false;  /* still receiving the body: 451 at its end */
}
