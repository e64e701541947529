/*
 * SMTP server session: connection events, the input loop, the state
 * transitions and the conversation with the queue. Runs in smtpd.
 */
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
#include "tls/tls.h"
#include "util/alloc.h"
#include "util/log.h"

/* Replies a client has not read yet; past this we stop reading its commands. */
#define OUTPUT_MAX (64u * 1024)
#define DATA_READ_SIZE 16384

static const char *state_names[SMTP_STATE_COUNT] = {
	[SMTP_STATE_CONNECTED] = "connected", [SMTP_STATE_READY] = "ready",
	[SMTP_STATE_MAIL] = "mail",           [SMTP_STATE_RCPT] = "rcpt",
	[SMTP_STATE_DATA] = "data",           [SMTP_STATE_BDAT] = "bdat",
	[SMTP_STATE_CHUNKING] = "chunking",   [SMTP_STATE_QUEUE_WAIT] = "queue_wait",
	[SMTP_STATE_CLOSING] = "closing",     [SMTP_STATE_TLS] = "tls",
	[SMTP_STATE_AUTH] = "auth",           [SMTP_STATE_AUTH_WAIT] = "auth_wait",
	[SMTP_STATE_SCAN_WAIT] = "scan_wait",
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
	const struct config *c = s->smtpd->config;
	if (to == SMTP_STATE_DATA || to == SMTP_STATE_BDAT)
		conn_set_timeout(s->conn, c->limits.data_timeout);
	else if (to != SMTP_STATE_CLOSING)
		conn_set_timeout(s->conn, c->limits.command_timeout);
	if (to == SMTP_STATE_QUEUE_WAIT || to == SMTP_STATE_AUTH_WAIT || to == SMTP_STATE_SCAN_WAIT)
		conn_pause(s->conn);
}

static void vreply(struct smtp_session *s, const char *fmt, va_list ap)
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
	if (++s->errors >= s->smtpd->config->limits.errors)
		smtp_session_close(s, "421 4.7.0 %s Error: too many errors", s->smtpd->config->hostname);
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
	smtp_session_txn_reset(s);
	smtp_session_set_state(s, SMTP_STATE_CLOSING);
	conn_after(s->conn, s->smtpd->config->limits.command_timeout, session_close_expired);
}

bool smtp_session_out_of_sync(struct smtp_session *s, const char *after)
{
	if (conn_input_pending(s->conn) == 0)
		return false;
	log_event(LOG_WARNING, "reject", "session", s->id, "client", s->client_ip, "command", after,
		  "reason", "improper command pipelining", NULL);
	smtp_session_close(s, "554 5.5.0 %s Error: improper command pipelining after %s; closing connection",
			   s->smtpd->config->hostname, after);
	return true;
}

struct smtp_txn *smtp_session_txn_new(struct smtp_session *s)
{
	struct smtp_txn *t = xcalloc(1, sizeof(*t));
	message_init(&t->msg, s->smtpd->config->limits.message_size);  /* fd -1, not 0 */
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
		ipc_msg_init(m, IPC_TXN_ABORT, t->reqid);
		channel_send(s->smtpd->queue, m, -1);
	}
	message_discard(&t->msg);
	for (unsigned i = 0; i < t->n_rcpts; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	free(t->rcpt_dsn);
	free(t);
	s->txn = NULL;
	s->wait = SMTP_WAIT_NONE;
}

/* --- input ---------------------------------------------------------------- */

static bool read_command(struct smtp_session *s)
{
	/* One buffer for every session: commands are handled one at a time. */
	static char line[65536 + 1];
	size_t cap = s->smtpd->config->limits.line_length;
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

/* The queue took enough of the message again: read on. */
static void backlog_drained(void *arg, bool ok)
{
	struct smtp_session *s = arg;
	conn_resume(s->conn);
	session_on_input(s);  /* a broken pipe shows as MESSAGE_IO at the end */
}

/* Too much of the message is waiting for the queue: stop reading from the
 * client until the pipe drains (the memory a session holds stays bounded). */
static bool wait_for_backlog(struct smtp_session *s)
{
	struct message *msg = &s->txn->msg;
	if (!message_backlogged(msg))
		return false;
	conn_pause(s->conn);
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
		smtp_session_close(s, "521 5.5.2 %s Error: bare CR or LF in message data "
				   "(RFC 5321 2.3.8); closing connection", s->smtpd->config->hostname);
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
		if (s->state == SMTP_STATE_CLOSING || s->state == SMTP_STATE_QUEUE_WAIT ||
		    s->state == SMTP_STATE_TLS || s->state == SMTP_STATE_AUTH_WAIT ||
		    s->state == SMTP_STATE_SCAN_WAIT)
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
	} else if (s->state != SMTP_STATE_QUEUE_WAIT && s->state != SMTP_STATE_SCAN_WAIT) {
		session_on_input(s);
	}
}

/* The handshake is done. RFC 3207 4.2: the server forgets everything it
 * learnt from the client before TLS (the EHLO name, any transaction), and
 * the client must say EHLO again. On implicit TLS (RFC 8314) the greeting
 * comes only now. */
static void session_on_tls_ready(void *arg)
{
	struct smtp_session *s = arg;
	const char *version, *cipher;
	int bits;
	conn_tls_info(s->conn, &version, &cipher, &bits);
	s->tls = true;
	smtp_session_txn_reset(s);
	s->helo[0] = '\0';
	s->esmtp = false;
	log_event(LOG_INFO, "tls", "session", s->id, "client", s->client_ip, "version", version,
		  "cipher", cipher, "bits", log_u64((unsigned long long)bits), NULL);
	smtp_session_set_state(s, SMTP_STATE_CONNECTED);
	if (s->lcfg && s->lcfg->tls == LISTENER_TLS_IMPLICIT)
		smtp_scan_connect(s);  /* the greeting, after the connect-stage checks */
	/* Records that arrived with the handshake's end were decrypted while
	 * input was held back: take them now (these are TLS bytes, not the
	 * cleartext that conn_start_tls() discarded). */
	session_on_input(s);
}

bool smtp_session_trusted(const struct smtp_session *s)
{
	const struct config *c = s->smtpd->config;
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
		       s->smtpd->config->limits.tls_handshakes_per_minute, 60))
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
	smtp_session_set_state(s, SMTP_STATE_TLS);
	return true;
}

static void session_auth_delay_over(void *arg)
{
	struct smtp_session *s = arg;
	if (s->state != SMTP_STATE_AUTH_WAIT)
		return;
	if (s->auth_cut_off) {
		smtp_session_reply(s, "%s", s->auth_reply);
		smtp_session_close(s, "421 4.7.0 %s Error: too many failed authentications; try again later",
				   s->smtpd->config->hostname);
		return;
	}
	smtp_session_set_state(s, SMTP_STATE_READY);
	smtp_session_error(s, "%s", s->auth_reply);
	conn_resume(s->conn);
}

void smtp_session_auth_delay(struct smtp_session *s, const char *reply, bool cut_off)
{
	snprintf(s->auth_reply, sizeof(s->auth_reply), "%s", reply);
	s->auth_cut_off = cut_off;
	smtp_session_set_state(s, SMTP_STATE_AUTH_WAIT);
	conn_after(s->conn, s->smtpd->config->auth.failure_delay, session_auth_delay_over);
}

static void session_on_timeout(void *arg)
{
	struct smtp_session *s = arg;
	if (s->state == SMTP_STATE_CLOSING || s->state == SMTP_STATE_TLS) {
		/* The client does not even read its last reply, or never finished
		 * the handshake: no reply could reach it. */
		if (s->state == SMTP_STATE_TLS)
			log_event(LOG_INFO, "timeout", "session", s->id, "state", "tls", NULL);
		session_free(s);
		return;
	}
	log_event(LOG_INFO, "timeout", "session", s->id, "state", smtp_state_name(s->state), NULL);
	smtp_session_close(s, "421 4.4.2 %s Error: timeout exceeded", s->smtpd->config->hostname);
}

static void session_on_closed(void *arg, const char *why)
{
	struct smtp_session *s = arg;
	if (s->state != SMTP_STATE_CLOSING && s->state != SMTP_STATE_READY &&
	    s->state != SMTP_STATE_CONNECTED && s->state != SMTP_STATE_SCAN_WAIT)
		log_event(LOG_INFO, "lost", "session", s->id, "state", smtp_state_name(s->state),
			  "reason", why, NULL);
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

void smtp_session_start(struct smtpd *d, int fd, const struct sockaddr *sa, const char *listener)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	s->smtpd = d;
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
	log_event(LOG_INFO, "connect", "session", s->id, "client", s->client_ip,
		  "port", s->client_port, "listener", listener, NULL);
	const struct config *c = d->config;
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
	} else
		smtp_scan_connect(s);  /* the greeting, after the connect-stage checks */
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
	free(s);
	smtpd_session_gone(d, NULL);
}

void smtp_session_shutdown(struct smtp_session *s)
{
	if (s->state == SMTP_STATE_CONNECTED || s->state == SMTP_STATE_READY ||
	    s->state == SMTP_STATE_AUTH || s->state == SMTP_STATE_AUTH_WAIT)
		smtp_session_close(s, "421 4.3.2 %s Service shutting down", s->smtpd->config->hostname);
}

/* --- the transaction and the queue ------------------------------------- */

void smtp_session_begin_data(struct smtp_session *s, bool bdat)
{
	struct smtp_txn *t = s->txn;
	struct channel *q = s->smtpd->queue;
	if (!q) {  /* the queue is being restarted: nothing can be accepted now */
		s->wait = bdat ? SMTP_WAIT_OPEN_BDAT : SMTP_WAIT_OPEN_DATA;
		smtp_session_queue_failed(s, "no queue");
		return;
	}
	struct ipc_msg *m = xmalloc(sizeof(*m));
	t->reqid = ++s->smtpd->next_reqid;
	uint32_t flags = (t->params.body == MAIL_BODY_8BITMIME ? IPC_TXN_F_8BITMIME : 0) |
			 (t->params.smtputf8 ? IPC_TXN_F_SMTPUTF8 : 0);
	ipc_msg_init(m, IPC_TXN_BEGIN, t->reqid);
	ipc_put_str(m, s->id);
	ipc_put_str(m, s->client_ip);
	ipc_put_str(m, s->helo);
	ipc_put_str(m, t->sender_text);
	ipc_put_u64(m, t->params.has_size ? t->params.size : 0);
	ipc_put_u32(m, flags);
	channel_send(q, m, -1);
	if (t->params.ret[0] || t->params.envid[0]) {
		ipc_msg_init(m, IPC_TXN_DSN, t->reqid);
		ipc_put_str(m, t->params.ret);
		ipc_put_str(m, t->params.envid);
		channel_send(q, m, -1);
	}
	for (unsigned i = 0; i < t->n_rcpts; i++) {
		ipc_msg_init(m, IPC_TXN_RCPT, t->reqid);
		ipc_put_str(m, t->rcpts[i]);
		channel_send(q, m, -1);
		if (t->rcpt_dsn[i].notify[0] || t->rcpt_dsn[i].orcpt[0]) {
			ipc_msg_init(m, IPC_TXN_RCPT_DSN, t->reqid);
			ipc_put_str(m, t->rcpt_dsn[i].notify);
			ipc_put_str(m, t->rcpt_dsn[i].orcpt);
			channel_send(q, m, -1);
		}
	}
	ipc_msg_init(m, IPC_TXN_OPEN, t->reqid);
	channel_send(q, m, -1);
	free(m);
	t->queue_knows = true;
	s->wait = bdat ? SMTP_WAIT_OPEN_BDAT : SMTP_WAIT_OPEN_DATA;
	smtp_session_set_state(s, SMTP_STATE_QUEUE_WAIT);
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
	if (authed && s->smtpd->config->auth.received_identity)
		snprintf(auth_clause, sizeof(auth_clause), "\r\n\t(Authenticated sender: %s)", s->auth_user);
	char for_clause[ADDRESS_PATH_MAX + 16] = "";
	if (t->n_rcpts == 1)
		snprintf(for_clause, sizeof(for_clause), "\r\n\tfor <%s>", t->rcpts[0]);
	snprintf(out, cap, "Received: from %s ([%s])%s%s\r\n\tby %s (mailwarden) with %s id %s%s;\r\n\t%s\r\n",
		 s->helo[0] ? s->helo : "unknown", s->client_ip, tls_clause, auth_clause,
		 s->smtpd->config->hostname, with, queue_id, for_clause, date);
}

void smtp_session_queue_opened(struct smtp_session *s, const char *queue_id, int fd)
{
	struct smtp_txn *t = s->txn;
	if (!t || (s->wait != SMTP_WAIT_OPEN_DATA && s->wait != SMTP_WAIT_OPEN_BDAT)) {
		close(fd);
		return;
	}
	char header[4096 + ADDRESS_PATH_MAX];
	received_header(s, queue_id, header, sizeof(header));
	message_open(&t->msg, s->smtpd->base, fd, queue_id, header);
	conn_resume(s->conn);
	if (s->wait == SMTP_WAIT_OPEN_DATA) {
		s->wait = SMTP_WAIT_NONE;
		smtp_session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
		smtp_session_set_state(s, SMTP_STATE_DATA);
	} else {
		s->wait = SMTP_WAIT_NONE;
		smtp_session_set_state(s, SMTP_STATE_BDAT);
	}
}

/* The whole message is in the pipe: END-OF-MESSAGE with what the dialogue
 * learnt; the queue decides and answers (SEC-1: smtpd makes no verdict). */
static void message_written(void *arg, bool ok)
{
	struct smtp_session *s = arg;
	struct smtp_txn *t = s->txn;
	if (!ok) {
		/* The queue closed its end: it dropped the transaction, or is gone. */
		log_event(LOG_WARNING, "queue_failed", "session", s->id, "reason", "the pipe to the queue broke", NULL);
		smtp_session_reply(s, "451 4.3.0 Error: queue file write error, try again later");
		smtp_session_txn_reset(s);  /* ABORT, in case the queue still knows it */
		smtp_session_set_state(s, SMTP_STATE_READY);
		conn_resume(s->conn);
		return;
	}
	struct ipc_eom *e = xcalloc(1, sizeof(*e));
	e->size = t->msg.size;
	smtp_scan_eom(s, e);
	struct ipc_msg *m = xmalloc(sizeof(*m));
	ipc_eom_encode(m, t->reqid, e);
	channel_send(s->smtpd->queue, m, -1);
	free(m);
	free(e);
	message_discard(&t->msg);  /* the queue has every byte; close our end */
}

void smtp_session_end_of_message(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	enum message_error err = message_finish(&t->msg);
	const char *host = s->smtpd->config->hostname;
	switch (err) {
	case MESSAGE_OK:
		break;
	case MESSAGE_TOO_BIG:
		smtp_session_error(s, "552 5.3.4 Error: message too big (limit %llu octets)",
				   (unsigned long long)t->msg.limit);
		break;
	case MESSAGE_BARE_EOL:
		smtp_session_error(s, "550 5.5.2 %s Error: bare CR or LF in message data (RFC 5321 2.3.8)", host);
		break;
	case MESSAGE_IO:
		smtp_session_reply(s, "451 4.3.0 Error: local problem writing the message, try again later");
		break;
	}
	if (err != MESSAGE_OK) {
		if (s->state != SMTP_STATE_CLOSING) {
			smtp_session_txn_reset(s);
			smtp_session_set_state(s, SMTP_STATE_READY);
		}
		return;
	}
	if (!t->queue_knows || !s->smtpd->queue) {
		/* The queue that took this message's start died meanwhile. */
		s->wait = SMTP_WAIT_VERDICT;
		smtp_session_queue_failed(s, "queue restarted");
		return;
	}
	s->wait = SMTP_WAIT_VERDICT;
	smtp_session_set_state(s, SMTP_STATE_QUEUE_WAIT);
	pipeout_when_drained(t->msg.out, message_written, s);
}

/* The transaction is over, whatever the verdict: back to READY. */
static void verdict_answered(struct smtp_session *s)
{
	s->txn->queue_knows = false;  /* the message is the queue's now, or gone */
	smtp_session_txn_reset(s);
	smtp_session_set_state(s, SMTP_STATE_READY);
	conn_resume(s->conn);
	if (s->smtpd->stopping)
		smtp_session_shutdown(s);
}

void smtp_session_queue_committed(struct smtp_session *s, const char *queue_id)
{
	struct smtp_txn *t = s->txn;
	if (!t || s->wait != SMTP_WAIT_VERDICT)
		return;
	/* REL-4: every message with the client address and the AUTH identity. */
	log_event(LOG_INFO, "queued", "session", s->id, "queue_id", queue_id, "from", t->sender_text,
		  "nrcpt", log_u64(t->n_rcpts), "size", log_u64(t->msg.size), "client", s->client_ip,
		  "auth", s->auth_user[0] ? s->auth_user : "-", "tls", s->tls ? "yes" : "no", NULL);
	smtp_session_reply(s, "250 2.0.0 Ok: queued as %s", queue_id);
	verdict_answered(s);
}

void smtp_session_queue_refused(struct smtp_session *s, const char *reply)
{
	if (!s->txn || s->wait != SMTP_WAIT_VERDICT)
		return;
	log_event(LOG_INFO, "reject", "session", s->id, "client", s->client_ip, "command", "DATA",
		  "reply", reply, NULL);
	smtp_session_reply(s, "%s", reply);
	verdict_answered(s);
}

void smtp_session_queue_discarded(struct smtp_session *s, const char *queue_id)
{
	if (!s->txn || s->wait != SMTP_WAIT_VERDICT)
		return;
	/* Accepted towards the client, dropped by the queue (SCAN-8 "delete"). */
	smtp_session_reply(s, "250 2.0.0 Ok: queued as %s", queue_id);
	verdict_answered(s);
}

void smtp_session_queue_lost(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	if (!t || !t->queue_knows)
		return;
	if (s->wait != SMTP_WAIT_NONE) {
		smtp_session_queue_failed(s, "queue restarted");
		return;
	}
	t->queue_knows = false;  /* still receiving the body: 451 at its end */
}

void smtp_session_queue_failed(struct smtp_session *s, const char *reason)
{
	struct smtp_txn *t = s->txn;
	if (!t || s->wait == SMTP_WAIT_NONE)
		return;
	log_event(LOG_WARNING, "queue_failed", "session", s->id, "reason", reason, NULL);
	t->queue_knows = false;
	conn_resume(s->conn);
	if (s->wait == SMTP_WAIT_OPEN_BDAT) {
		/* The chunk's bytes are on their way and must be read, not parsed as commands. */
		smtp_session_reply(s, "451 4.3.0 Error: queue file write error, try again later");
		t->bdat_failed = true;
		s->wait = SMTP_WAIT_NONE;
		smtp_session_set_state(s, SMTP_STATE_BDAT);
		return;
	}
	smtp_session_reply(s, "451 4.3.0 Error: queue file write error, try again later");
	smtp_session_txn_reset(s);
	smtp_session_set_state(s, SMTP_STATE_READY);
}
