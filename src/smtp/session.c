/*
 * SMTP server session: connection events, the input loop and the state
 * transitions. Waiting is wait.c's, the conversation with the queue
 * session_queue.c's. Runs in smtpd.
 */
#include "smtp/rehearsal.h"
#include "smtp/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "ipc/channel.h"
#include "ipc/txn.h"
#include "net/cidr.h"
#include "net/pipeout.h"
#include "net/conn.h"
#include "net/rate.h"
#include "smtp/auth.h"
#include "smtp/commands.h"
#include "smtp/smtpd.h"
#include "smtp/scan_hook.h"
#include "smtp/smtpd_internal.h"
#include "smtp/wait.h"
#include "tls/tls.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"

/* Replies a client has not read yet; past this we stop reading its commands. */
#define OUTPUT_MAX (64u * 1024)
#define DATA_READ_SIZE 16384

static const char *state_names[SMTP_STATE_COUNT] = {
	[SMTP_STATE_CONNECTED] = "connected", [SMTP_STATE_READY] = "ready",
	[SMTP_STATE_MAIL] = "mail",           [SMTP_STATE_RCPT] = "rcpt",
	[SMTP_STATE_DATA] = "data",           [SMTP_STATE_BDAT] = "bdat",
	[SMTP_STATE_CHUNKING] = "chunking",   [SMTP_STATE_AUTH] = "auth",
	[SMTP_STATE_WAIT] = "wait",           [SMTP_STATE_CLOSING] = "closing",
};

const char *smtp_state_name(enum smtp_state st)
{
	return st < SMTP_STATE_COUNT ? state_names[st] : "invalid";
}

static void session_free(struct smtp_session *s);

void smtp_session_set_state(struct smtp_session *s, enum smtp_state to)
{
	if (s->state == to)
		return;
	log_event(LOG_DEBUG, "state", "session", s->id, "from", smtp_state_name(s->state),
		  "to", smtp_state_name(to), NULL);
	s->state = to;
	const struct config *c = s->cfg;
	if (to == SMTP_STATE_WAIT) {
		/* The client waits for us: the wait's deadline (wait.c) bounds it. */
		conn_set_timeout(s->conn, 0);
		conn_pause(s->conn);
	} else if (to == SMTP_STATE_DATA || to == SMTP_STATE_BDAT)
		conn_set_timeout(s->conn, c->limits.data_timeout);
	else if (to != SMTP_STATE_CLOSING)
		conn_set_timeout(s->conn, c->limits.command_timeout);
}

__attribute__((format(printf, 2, 0))) static void vreply(struct smtp_session *s, const char *fmt, va_list ap)
{
	char line[1024];
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	log_event(LOG_DEBUG, "reply", "session", s->id, "text", line, NULL);
	line[n++] = '\r';
	line[n++] = '\n';
	conn_write(s->conn, line, (size_t)n);
}

void smtp_session_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
}

/* A refused command: counted, and too many end the session (a client
 * probing or confused should not hold a slot). */
void smtp_session_error(struct smtp_session *s, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	smtp_session_reply(s, "%s", text);
	if (++s->errors >= s->cfg->limits.errors)
		smtp_session_close(s, "421 4.7.0 %s Error: too many errors", s->cfg->hostname);
}

/* A closing session whose last reply is not written within the command
 * timeout goes anyway: a client that stops reading (or never finishes its
 * TLS handshake, so the reply cannot even be encrypted) must not hold a
 * session slot. */
static void session_close_expired(void *arg)
{
	struct smtp_session *s = arg;
	log_event(LOG_INFO, "close_timeout", "session", s->id, NULL);
	session_free(s);
}

void smtp_session_close(struct smtp_session *s, const char *fmt, ...)
{
	if (s->state == SMTP_STATE_CLOSING)
		return;
	va_list ap;
	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
	smtp_session_wait_cancel(s);
	smtp_session_txn_reset(s);
	smtp_session_set_state(s, SMTP_STATE_CLOSING);
	conn_after(s->conn, s->cfg->limits.command_timeout, session_close_expired);
}

bool smtp_session_out_of_sync(struct smtp_session *s, const char *after)
{
	if (conn_input_pending(s->conn) == 0)
		return false;
	log_event(LOG_WARNING, "reject", "session", s->id, "client", s->client_ip, "command", after,
		  "reason", "improper command pipelining", NULL);
	smtp_session_close(s, "554 5.5.0 %s Error: improper command pipelining after %s; closing connection",
			   s->cfg->hostname, after);
	return true;
}

struct smtp_txn *smtp_session_txn_new(struct smtp_session *s)
{
	struct smtp_txn *t = xcalloc(1, sizeof(*t));
	message_init(&t->msg, s->cfg->limits.message_size);  /* fd -1, not 0 */
	s->txn = t;
	return t;
}

void smtp_session_txn_reset(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	if (!t)
		return;
	if (t->queue_knows && s->smtpd->queue) {
		struct ipc_msg *m = &(struct ipc_msg){ 0 };
		ipc_txn_empty_encode(m, IPC_TXN_ABORT, t->reqid);
		channel_send(s->smtpd->queue, m, -1);
	}
	message_discard(&t->msg);
	for (unsigned i = 0; i < t->n_rcpts; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	free(t->rcpt_dsn);
	free(t);
	s->txn = NULL;
}

/* --- input ---------------------------------------------------------------- */

static bool read_command(struct smtp_session *s)
{
	/* One buffer for every session: commands are handled one at a time. */
	static char line[65536 + 1];
	size_t cap = s->cfg->limits.line_length;
	if (cap > sizeof(line) - 1)
		cap = sizeof(line) - 1;
	size_t len;
	switch (conn_read_line(s->conn, line, cap, &len)) {
	case CONN_LINE_NONE:
		return false;
	case CONN_LINE_TOO_LONG:
		if (s->state == SMTP_STATE_AUTH) {  /* the SASL exchange ends with it */
			s->auth_step = SMTP_AUTH_NONE;
			smtp_session_set_state(s, SMTP_STATE_READY);
		}
		smtp_session_error(s, "500 5.5.2 Error: line too long (limit %zu octets)", cap);
		return true;
	case CONN_LINE_RUNAWAY:  /* read on, it would only be dropped: cut it off */
		smtp_session_close(s, "500 5.5.2 Error: line without end; closing connection");
		return false;
	case CONN_LINE_OK:
		if (s->state == SMTP_STATE_AUTH)
			smtp_auth_response(s, line, len);
		else
			smtp_command_dispatch(s, line, len);
		return true;
	}
	return false;
}

static void session_on_input(void *arg);

/* The queue took enough of the message again: read on (a broken pipe
 * shows as MESSAGE_IO at the end). A queue that takes nothing for the data
 * timeout fails the message: the rest is read and dropped, and its end is
 * answered 451 (the client cannot be answered mid-message). */
static void backlog_done(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	if (r->status == SMTP_RESULT_EXPIRED) {
		log_event(LOG_WARNING, "queue_failed", "session", s->id, "reason",
			  "the queue took nothing of the message in time", NULL);
		message_fail(&s->txn->msg);
	}
	session_on_input(s);
}

static void backlog_drained(void *arg, bool ok)
{
	smtp_session_resume(arg, SMTP_PENDING_BACKLOG, &(struct smtp_result){ .status = SMTP_RESULT_OK, .fd = -1 });
}

/* Too much of the message is waiting for the queue: stop reading from the
 * client until the pipe drains (the memory a session holds stays bounded). */
static bool wait_for_backlog(struct smtp_session *s)
{
	struct message *msg = &s->txn->msg;
	if (!message_backlogged(msg))
		return false;
	smtp_session_wait(s, SMTP_PENDING_BACKLOG, &(struct smtp_cont){ .fn = backlog_done },
			  s->cfg->limits.data_timeout);
	pipeout_when_drained(msg->out, backlog_drained, s);
	return true;
}

/* Issue 18 item 2 (SEC-4): NUL in the content is refused, in DATA and
 * BDAT alike. A next hop that drops NULs would read other line ends than
 * we did; the framing itself is intact, so the session goes on. */
static void refuse_nul(struct smtp_session *s)
{
	log_event(LOG_WARNING, "reject", "session", s->id, "command", s->state == SMTP_STATE_DATA ? "DATA" : "BDAT",
		  "reason", "NUL in message content", NULL);
	metrics_count(M_REFUSED_PROTOCOL);
	smtp_session_error(s, "554 5.6.0 Error: NUL character in message content");
	if (s->state != SMTP_STATE_CLOSING) {
		smtp_session_txn_reset(s);
		smtp_session_set_state(s, SMTP_STATE_READY);
	}
}

static bool read_data(struct smtp_session *s)
{
	char buf[DATA_READ_SIZE];
	if (wait_for_backlog(s))
		return false;
	size_t n = conn_peek(s->conn, buf, sizeof(buf));
	if (n == 0)
		return false;
	struct message *msg = &s->txn->msg;
	conn_consume(s->conn, message_data(msg, buf, n));
	if (body_failed(&msg->body)) {
		/* The end of data can no longer be found reliably: what follows a
		 * bare LF might be a smuggled command. Refuse and hang up. */
		log_event(LOG_WARNING, "reject", "session", s->id, "command", "DATA",
			  "reason", "bare CR or LF in message data", NULL);
		metrics_count(M_REFUSED_PROTOCOL);
		smtp_session_close(s, "521 5.5.2 %s Error: bare CR or LF in message data "
				   "(RFC 5321 2.3.8); closing connection", s->cfg->hostname);
	} else if (body_done(&msg->body) && body_has_nul(&msg->body)) {
		refuse_nul(s);
	} else if (body_done(&msg->body)) {
		smtp_session_end_of_message(s);
	}
	return true;
}

static void chunk_done(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	if (t->chunk_last && smtp_session_out_of_sync(s, "BDAT LAST"))
		return;  /* RFC 3030 4 + RFC 2920: the client waits for the reply to LAST */
	if (t->bdat_failed) {
		/* Its reply went out with the BDAT command; the chunk is now read. */
		smtp_session_txn_reset(s);
		smtp_session_set_state(s, s->helo[0] ? SMTP_STATE_READY : SMTP_STATE_CONNECTED);
		return;
	}
	if (t->msg.error == MESSAGE_TOO_BIG) {
		metrics_count(M_REFUSED_SIZE);
		smtp_session_error(s, "552 5.3.4 Error: message too big (limit %llu octets)",
				   (unsigned long long)t->msg.limit);
		smtp_session_txn_reset(s);
		smtp_session_set_state(s, SMTP_STATE_READY);
	} else if (body_has_nul(&t->msg.body)) {
		refuse_nul(s);
	} else if (t->chunk_last) {
		smtp_session_end_of_message(s);
	} else {
		smtp_session_reply(s, "250 2.0.0 Ok: %llu octets received so far",
				   (unsigned long long)t->msg.size);
		smtp_session_set_state(s, SMTP_STATE_CHUNKING);
	}
}

static bool read_chunk(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	if (wait_for_backlog(s))
		return false;
	if (t->chunk_left > 0) {
		char buf[DATA_READ_SIZE];
		size_t want = t->chunk_left < sizeof(buf) ? (size_t)t->chunk_left : sizeof(buf);
		size_t n = conn_peek(s->conn, buf, want);
		if (n == 0)
			return false;
		if (!t->bdat_failed) {
			body_note_nul(&t->msg.body, buf, n);
			message_chunk(&t->msg, buf, n);
		}
		conn_consume(s->conn, n);
		t->chunk_left -= n;
	}
	if (t->chunk_left == 0)
		chunk_done(s);
	return true;
}

static void session_on_input(void *arg)
{
	struct smtp_session *s = arg;
	for (;;) {
		if (s->state == SMTP_STATE_CLOSING || s->state == SMTP_STATE_WAIT)
			return;
		if (conn_output_pending(s->conn) > OUTPUT_MAX)
			return;  /* resumed by session_on_drained */
		bool progress;
		if (s->state == SMTP_STATE_DATA)
			progress = read_data(s);
		else if (s->state == SMTP_STATE_BDAT)
			progress = read_chunk(s);
		else
			progress = read_command(s);
		if (!progress)
			return;
	}
}

static void session_on_drained(void *arg)
{
	struct smtp_session *s = arg;
	if (s->state == SMTP_STATE_CLOSING) {
		if (conn_finish(s->conn))
			session_free(s);
	} else if (s->state != SMTP_STATE_WAIT) {
		session_on_input(s);
	}
}

/* The handshake is done. RFC 3207 4.2: the server forgets everything it
 * learnt from the client before TLS (the EHLO name, any transaction), and
 * the client must say EHLO again. On implicit TLS (RFC 8314) the greeting
 * comes only now. A client that does not finish the handshake within the
 * command timeout is dropped: no reply could reach it. */
static void tls_done(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r)
{
	if (r->status == SMTP_RESULT_EXPIRED) {
		log_event(LOG_INFO, "timeout", "session", s->id, "state", smtp_state_name(SMTP_STATE_WAIT),
			  "wait", smtp_pending_kind_name(SMTP_PENDING_TLS), NULL);
		session_free(s);
		return;
	}
	const char *version, *cipher;
	int bits;
	conn_tls_info(s->conn, &version, &cipher, &bits);
	s->tls = true;
	smtp_session_txn_reset(s);
	s->helo[0] = '\0';
	s->esmtp = false;
	log_event(LOG_INFO, "tls", "session", s->id, "client", s->client_ip, "version", version,
		  "cipher", cipher, "bits", log_u64((unsigned long long)bits), NULL);
	metrics_tls(false, version);
	smtp_session_set_state(s, SMTP_STATE_CONNECTED);
	if (s->lcfg && s->lcfg->tls == LISTENER_TLS_IMPLICIT)
		smtp_scan_connect(s);  /* the greeting, after the connect-stage checks */
	/* Records that arrived with the handshake's end were decrypted while
	 * input was held back: take them now (these are TLS bytes, not the
	 * cleartext that conn_start_tls() discarded). */
	session_on_input(s);
}

static void session_on_tls_ready(void *arg)
{
	smtp_session_resume(arg, SMTP_PENDING_TLS, &(struct smtp_result){ .status = SMTP_RESULT_OK, .fd = -1 });
}

bool smtp_session_trusted(const struct smtp_session *s)
{
	const struct config *c = s->cfg;
	const struct sockaddr *sa = (const struct sockaddr *)&s->client_addr;
	return cidr_list_contains(&c->trusted_networks, sa) ||
	       (s->lcfg && cidr_list_contains(&s->lcfg->trusted_networks, sa));
}

bool smtp_session_tls_allowed(struct smtp_session *s)
{
	if (smtp_session_trusted(s))
		return true;  /* our own servers: they may open as many as they need */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (rate_allow(s->smtpd->tls_rate, s->client_ip, now.tv_sec,
		       s->cfg->limits.tls_handshakes_per_minute, 60))
		return true;
	log_event(LOG_WARNING, "reject", "session", s->id, "client", s->client_ip, "command", "TLS",
		  "reason", "too many TLS handshakes", NULL);
	return false;
}

bool smtp_session_start_tls(struct smtp_session *s)
{
	const struct smtpd_assets *a = s->smtpd->assets;
	if (!a || !a->tls || !conn_start_tls(s->conn, tls_server_ctx(a->tls)))
		return false;
	smtp_session_wait(s, SMTP_PENDING_TLS, &(struct smtp_cont){ .fn = tls_done },
			  s->cfg->limits.command_timeout);
	return true;
}

void smtp_session_timed_out(struct smtp_session *s, enum smtp_pending_kind kind)
{
	if (kind == SMTP_PENDING_NONE)
		log_event(LOG_INFO, "timeout", "session", s->id, "state", smtp_state_name(s->state), NULL);
	else
		log_event(LOG_INFO, "timeout", "session", s->id, "state", smtp_state_name(SMTP_STATE_WAIT),
			  "wait", smtp_pending_kind_name(kind), NULL);
	smtp_session_close(s, "421 4.4.2 %s Error: timeout exceeded", s->cfg->hostname);
}

/* No input for the read timeout (never while waiting: wait.c). */
static void session_on_timeout(void *arg)
{
	struct smtp_session *s = arg;
	if (s->state == SMTP_STATE_CLOSING) {
		/* The client does not even read its last reply. */
		session_free(s);
		return;
	}
	smtp_session_timed_out(s, SMTP_PENDING_NONE);
}

static void session_on_closed(void *arg, const char *why)
{
	struct smtp_session *s = arg;
	enum smtp_pending_kind kind = smtp_session_waiting(s);
	if (kind == SMTP_PENDING_SCAN || kind == SMTP_PENDING_GREET_DELAY)
		;  /* not yet greeted, or between a command and its reply: not worth a line */
	else if (kind != SMTP_PENDING_NONE)
		log_event(LOG_INFO, "lost", "session", s->id, "state", smtp_state_name(s->state),
			  "wait", smtp_pending_kind_name(kind), "reason", why, NULL);
	else if (s->state != SMTP_STATE_CLOSING && s->state != SMTP_STATE_READY && s->state != SMTP_STATE_CONNECTED)
		log_event(LOG_INFO, "lost", "session", s->id, "state", smtp_state_name(s->state), "reason", why, NULL);
	session_free(s);
}

static const struct conn_handlers session_handlers = {
	.on_input = session_on_input,
	.on_drained = session_on_drained,
	.on_timeout = session_on_timeout,
	.on_closed = session_on_closed,
	.on_tls_ready = session_on_tls_ready,
};

/* --- life cycle -------------------------------------------------------- */

static void client_address_text(struct smtp_session *s, const struct sockaddr *sa)
{
	const void *addr;
	unsigned port;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)sa;
		addr = &v6->sin6_addr;
		port = ntohs(v6->sin6_port);
		memcpy(&s->client_addr, v6, sizeof(*v6));
	} else {
		const struct sockaddr_in *v4 = (const void *)sa;
		addr = &v4->sin_addr;
		port = ntohs(v4->sin_port);
		memcpy(&s->client_addr, v4, sizeof(*v4));
	}
	if (!inet_ntop(sa->sa_family, addr, s->client_ip, sizeof(s->client_ip)))
		snprintf(s->client_ip, sizeof(s->client_ip), "unknown");
	snprintf(s->client_port, sizeof(s->client_port), "%u", port);
}

static void new_session_id(char id[17])
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	snprintf(id, 17, "%016llx", (unsigned long long)r);
}

/* The session's listener as the metrics count it: its index in the
 * configuration this smtpd runs with (util/metrics.h). */
static size_t listener_index(const struct smtp_session *s)
{
	const struct config *c = s->smtpd->config;
	return s->lcfg ? (size_t)(s->lcfg - c->listeners) : METRICS_LISTENERS - 1;
}

void smtp_session_start(struct smtpd *d, int fd, const struct sockaddr *sa, const char *listener)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	s->smtpd = d;
	s->cfg = d->active;
	s->level = d->level;
	s->rehearse_cfg = d->rehearse_cfg;
	s->rehearse = d->rehearse;
	s->listener = listener;
	s->lcfg = config_listener(d->config, listener);
	s->state = SMTP_STATE_CONNECTED;
	new_session_id(s->id);
	client_address_text(s, sa);
	s->conn = conn_new(d->base, fd, &session_handlers, s);
	if (!s->conn) {
		close(fd);
		free(s);
		return;
	}
	TAILQ_INSERT_TAIL(&d->sessions, s, link);
	d->n_sessions++;
	metrics_session(listener_index(s), 1);
	log_event(LOG_INFO, "connect", "session", s->id, "client", s->client_ip,
		  "port", s->client_port, "listener", listener, NULL);
	const struct config *c = s->cfg;
	bool implicit = s->lcfg && s->lcfg->tls == LISTENER_TLS_IMPLICIT;
	conn_set_timeout(s->conn, c->limits.command_timeout);
	if (implicit && (smtpd_sessions_from(d, sa) > c->limits.connections_per_ip || d->stopping ||
			 smtp_auth_client_cut_off(s) || !smtp_session_tls_allowed(s))) {
		/* RFC 8314: not one byte in clear on this port, not even a 421:
		 * the refusal is the closed connection (issue 18 item 4). */
		log_event(LOG_INFO, "refused", "session", s->id, "client", s->client_ip, "listener", listener, NULL);
		session_free(s);
	} else if (smtpd_sessions_from(d, sa) > c->limits.connections_per_ip)
		smtp_session_close(s, "421 4.7.0 %s Error: too many connections from %s",
				   c->hostname, s->client_ip);
	else if (d->stopping)
		smtp_session_close(s, "421 4.3.2 %s Service shutting down", c->hostname);
	else if (smtp_auth_client_cut_off(s))
		smtp_session_close(s, "421 4.7.0 %s Error: too many failed authentications from %s; try again later",
				   c->hostname, s->client_ip);
	else if (implicit) {
		/* RFC 8314: TLS from the first byte; the greeting (after the
		 * connect-stage checks) follows the handshake. */
		if (!smtp_session_start_tls(s)) {
			log_event(LOG_ERR, "tls_error", "session", s->id, "msg", "cannot start TLS", NULL);
			session_free(s);
		}
	} else {
		smtp_rehearse_connect(s, smtpd_sessions_from(d, sa));
		smtp_scan_connect(s);  /* the greeting, after the connect-stage checks */
	}
}

static void session_free(struct smtp_session *s)
{
	smtp_session_txn_reset(s);
	smtp_scan_session_end(s);
	log_event(LOG_INFO, "disconnect", "session", s->id, "errors", log_u64(s->errors), NULL);
	conn_free(s->conn);
	struct smtpd *d = s->smtpd;
	TAILQ_REMOVE(&d->sessions, s, link);
	d->n_sessions--;
	metrics_session(listener_index(s), -1);
	free(s);
	smtpd_session_gone(d, NULL);
}

void smtp_session_shutdown(struct smtp_session *s)
{
	enum smtp_pending_kind kind = smtp_session_waiting(s);
	if (s->state == SMTP_STATE_CONNECTED || s->state == SMTP_STATE_READY || s->state == SMTP_STATE_AUTH ||
	    kind == SMTP_PENDING_AUTH_DELAY || kind == SMTP_PENDING_GREET_DELAY)
		smtp_session_close(s, "421 4.3.2 %s Service shutting down", s->cfg->hostname);
}
