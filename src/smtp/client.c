#include "smtp/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config/config.h"
#include "util/alloc.h"
#include "util/log.h"

#define REPLY_LINE_MAX 4096
#define REPLY_LINES_MAX 100
#define BODY_CHUNK (64u * 1024)

enum client_state {
	CLIENT_CONNECT, CLIENT_GREETING, CLIENT_EHLO, CLIENT_HELO, CLIENT_MAIL,
	CLIENT_RCPT, CLIENT_DATA, CLIENT_BODY, CLIENT_QUIT, CLIENT_DONE,
	CLIENT_STARTTLS,    /* STARTTLS sent; 220 starts the handshake, then EHLO again */
};

static const char *client_state_names[] = {
	"connect", "greeting", "ehlo", "helo", "mail", "rcpt", "data", "body", "quit", "done",
	"starttls",
};

struct client {
	struct smtp_client_job job;
	struct bufferevent *bev;
	enum client_state state;
	smtp_client_done_cb done;
	void *arg;
	struct smtp_client_reply *replies;
	bool *accepted;
	size_t rcpt_index;          /* RCPT: next to send; BODY (LMTP): next reply */
	size_t n_accepted;
	bool peer_smtputf8, peer_8bitmime, peer_size;
	/* the reply being read */
	int reply_code;
	unsigned reply_lines;
	char reply_text[512];
	char ehlo_caps[REPLY_LINES_MAX][32];
	unsigned n_caps;
	/* body streaming */
	off_t body_pos;
	bool at_line_start, body_sent, last_was_lf;
	/* TLS */
	bool tls_handshaking, tls_active;
	char tls_info[128];
};

static void client_enter(struct client *c, enum client_state st);

static void client_send(struct client *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	bufferevent_write(c->bev, line, (size_t)n);
}

/* Every recipient without a final reply (code 0) gets this one. */
static void fail_remaining(struct client *c, int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < c->job.n_rcpts; i++)
		if (c->replies[i].code == 0) {
			c->replies[i].code = code;
			snprintf(c->replies[i].text, sizeof(c->replies[i].text), "%s", text);
		}
}

static void client_finish(struct client *c)
{
	for (size_t i = 0; i < c->job.n_rcpts; i++)
		snprintf(c->replies[i].tls, sizeof(c->replies[i].tls), "%s", c->tls_active ? c->tls_info : "none");
	c->done(c->arg, c->replies, c->job.n_rcpts);
	if (c->bev)
		bufferevent_free(c->bev);
	free(c->replies);
	free(c->accepted);
	free(c);
}

/* A failure of the whole session: a synthesized temporary reply. */
static void client_abort(struct client *c, const char *why)
{
	fail_remaining(c, 451, "451 4.4.2 %s:%s: %s (in state %s)", c->job.host, c->job.port, why,
			       client_state_names[c->state]);
	client_finish(c);
}

/* --- body ----------------------------------------------------------------- */

/* Dot-stuffing (RFC 5321 4.5.2): a line starting with "." gets another.
 * The spool holds CRLF lines only (smtpd refused bare CR/LF). */
static void body_send_some(struct client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	static char in[BODY_CHUNK];
	while (!c->body_sent && evbuffer_get_length(out) < BODY_CHUNK) {
		off_t left = c->job.body_end - c->body_pos;
		size_t want = left < (off_t)sizeof(in) ? (size_t)left : sizeof(in);
		ssize_t n = want ? pread(c->job.body_fd, in, want, c->body_pos) : 0;
		if (n < 0 || (want > 0 && n == 0)) {
			client_abort(c, "spool read error");
			return;
		}
		if (n == 0) {
			if (!c->last_was_lf && c->body_pos > c->job.body_offset)
				evbuffer_add(out, "\r\n", 2);
			evbuffer_add(out, ".\r\n", 3);
			c->body_sent = true;
			bufferevent_set_timeouts(c->bev, &(struct timeval){ .tv_sec = c->job.reply_timeout }, NULL);
			return;
		}
		size_t start = 0;
		for (size_t i = 0; i < (size_t)n; i++) {
			if (c->at_line_start && in[i] == '.') {
				evbuffer_add(out, in + start, i - start);
				evbuffer_add(out, ".", 1);
				start = i;
			}
			c->at_line_start = in[i] == '\n';
		}
		evbuffer_add(out, in + start, (size_t)n - start);
		c->last_was_lf = in[n - 1] == '\n';
		c->body_pos += n;
	}
}

/* --- replies --------------------------------------------------------------- */

static bool cap_has(const struct client *c, const char *cap)
{
	for (unsigned i = 0; i < c->n_caps; i++)
		if (strcasecmp(c->ehlo_caps[i], cap) == 0)
			return true;
	return false;
}

static void client_reply(struct client *c);
static void client_readcb(struct bufferevent *bev, void *arg);
static void client_writecb(struct bufferevent *bev, void *arg);
static void client_eventcb(struct bufferevent *bev, short what, void *arg);

/* RFC 3207 as the client, after the 220: bytes the server sent behind its
 * 220 are dropped (they came in clear), then the handshake runs over the
 * same socket. Its end (client_eventcb) sends EHLO again. */
static void client_start_tls(struct client *c)
{
	const struct smtp_client_job *j = &c->job;
	SSL *ssl = SSL_new(j->tls_ctx);
	if (!ssl) {
		fail_remaining(c, 451, "451 4.7.5 %s:%s: cannot set up TLS", j->host, j->port);
		client_enter(c, CLIENT_QUIT);
		return;
	}
	int min = j->tls_min_version ? j->tls_min_version : TLS1_2_VERSION;
	SSL_set_min_proto_version(ssl, min);
	const char *name = j->tls_name ? j->tls_name : j->host;
	unsigned char addr[16];
	bool numeric = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
	if (!numeric)
		SSL_set_tlsext_host_name(ssl, name);
	if (j->tls_level == TLS_LEVEL_VERIFY) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		if (numeric)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
		else
			SSL_set1_host(ssl, name);
	}
	struct bufferevent *under = c->bev;
	evbuffer_drain(bufferevent_get_input(under), evbuffer_get_length(bufferevent_get_input(under)));
	struct bufferevent *bev = bufferevent_openssl_filter_new(
		bufferevent_get_base(under), under, ssl, BUFFEREVENT_SSL_CONNECTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		fail_remaining(c, 451, "451 4.7.5 %s:%s: cannot set up TLS", j->host, j->port);
		client_enter(c, CLIENT_QUIT);
		return;
	}
	c->bev = bev;
	c->tls_handshaking = true;
	bufferevent_setcb(bev, client_readcb, client_writecb, client_eventcb, c);
	bufferevent_setwatermark(bev, EV_WRITE, BODY_CHUNK / 2, 0);
	bufferevent_set_timeouts(bev, &(struct timeval){ .tv_sec = j->reply_timeout },
				 &(struct timeval){ .tv_sec = j->reply_timeout });
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void record_rcpt_reply(struct client *c, size_t i)
{
	c->replies[i].code = c->reply_code;
	snprintf(c->replies[i].text, sizeof(c->replies[i].text), "%s", c->reply_text);
}

static size_t next_accepted(const struct client *c, size_t from)
{
	while (from < c->job.n_rcpts && !c->accepted[from])
		from++;
	return from;
}

static void client_reply(struct client *c)
{
	int code = c->reply_code;
	bool ok = code >= 200 && code < 300;
	switch (c->state) {
	case CLIENT_GREETING:
		if (ok)
			client_enter(c, CLIENT_EHLO);
		else {
			fail_remaining(c, code, "%s", c->reply_text);
			client_enter(c, CLIENT_QUIT);
		}
		break;
	case CLIENT_EHLO:
		if (ok) {
			c->peer_smtputf8 = cap_has(c, "SMTPUTF8");
			c->peer_8bitmime = cap_has(c, "8BITMIME");
			if (!c->tls_active && c->job.tls_ctx && c->job.tls_level != TLS_LEVEL_NONE &&
			    cap_has(c, "STARTTLS")) {
				client_enter(c, CLIENT_STARTTLS);
			} else if (!c->tls_active && c->job.tls_level >= TLS_LEVEL_ENCRYPT) {
				/* TLS-7: never in clear; try again later. */
				fail_remaining(c, 451, "451 4.7.5 %s:%s does not offer STARTTLS; TLS is required "
					       "for this destination", c->job.host, c->job.port);
				client_enter(c, CLIENT_QUIT);
			} else {
				client_enter(c, CLIENT_MAIL);
			}
		} else if (!c->job.lmtp && code >= 500) {
			client_enter(c, CLIENT_HELO);
		} else {
			fail_remaining(c, code, "%s", c->reply_text);
			client_enter(c, CLIENT_QUIT);
		}
		break;
	case CLIENT_HELO:
		if (ok)
			client_enter(c, CLIENT_MAIL);
		else {
			fail_remaining(c, code, "%s", c->reply_text);
			client_enter(c, CLIENT_QUIT);
		}
		break;
	case CLIENT_MAIL:
		if (ok)
			client_enter(c, CLIENT_RCPT);
		else {
			fail_remaining(c, code, "%s", c->reply_text);
			client_enter(c, CLIENT_QUIT);
		}
		break;
	case CLIENT_RCPT:
		/* A refusal is final; an acceptance waits for the reply to the body. */
		if (ok) {
			c->accepted[c->rcpt_index] = true;
			c->n_accepted++;
		} else {
			record_rcpt_reply(c, c->rcpt_index);
		}
		c->rcpt_index++;
		if (c->rcpt_index < c->job.n_rcpts)
			client_enter(c, CLIENT_RCPT);
		else if (c->n_accepted > 0)
			client_enter(c, CLIENT_DATA);
		else
			client_enter(c, CLIENT_QUIT);
		break;
	case CLIENT_DATA:
		if (code == 354) {
			client_enter(c, CLIENT_BODY);
		} else {
			for (size_t i = 0; i < c->job.n_rcpts; i++)
				if (c->accepted[i])
					record_rcpt_reply(c, i);
			client_enter(c, CLIENT_QUIT);
		}
		break;
	case CLIENT_BODY:
		if (!c->job.lmtp) {
			for (size_t i = 0; i < c->job.n_rcpts; i++)
				if (c->accepted[i])
					record_rcpt_reply(c, i);
			client_enter(c, CLIENT_QUIT);
			break;
		}
		/* LMTP (RFC 2033 4.2): one reply per accepted recipient, in order. */
		c->rcpt_index = next_accepted(c, c->rcpt_index);
		record_rcpt_reply(c, c->rcpt_index);
		c->rcpt_index = next_accepted(c, c->rcpt_index + 1);
		if (c->rcpt_index >= c->job.n_rcpts)
			client_enter(c, CLIENT_QUIT);
		break;
	case CLIENT_STARTTLS:
		if (code == 220) {
			client_start_tls(c);
		} else if (c->job.tls_level >= TLS_LEVEL_ENCRYPT) {
			fail_remaining(c, 451, "451 4.7.5 %s:%s refused STARTTLS: %s", c->job.host, c->job.port,
				       c->reply_text);
			client_enter(c, CLIENT_QUIT);
		} else {
			client_enter(c, CLIENT_MAIL);  /* opportunistic: go on in clear */
		}
		break;
	case CLIENT_QUIT:
		client_enter(c, CLIENT_DONE);
		break;
	case CLIENT_CONNECT:
	case CLIENT_DONE:
		break;
	}
}

/* Reads reply lines; a complete reply goes to client_reply(). */
static void client_readcb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (c->state != CLIENT_DONE && c->state != CLIENT_CONNECT) {
		size_t len;
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (!line) {
			if (evbuffer_get_length(in) > REPLY_LINE_MAX)
				client_abort(c, "reply line too long");
			return;
		}
		bool valid = len >= 3 && len <= REPLY_LINE_MAX && line[0] >= '1' && line[0] <= '5' &&
			     line[1] >= '0' && line[1] <= '9' && line[2] >= '0' && line[2] <= '9' &&
			     (len == 3 || line[3] == ' ' || line[3] == '-');
		int code = valid ? atoi(line) : 0;
		if (!valid || (c->reply_lines > 0 && code != c->reply_code) || ++c->reply_lines > REPLY_LINES_MAX) {
			free(line);
			client_abort(c, "malformed reply");
			return;
		}
		c->reply_code = code;
		if (c->state == CLIENT_EHLO && c->reply_lines > 1 && len > 4) {
			size_t k = strcspn(line + 4, " ");
			if (k < sizeof(c->ehlo_caps[0]) && c->n_caps < REPLY_LINES_MAX)
				snprintf(c->ehlo_caps[c->n_caps++], sizeof(c->ehlo_caps[0]), "%.*s", (int)k, line + 4);
		}
		bool last = len == 3 || line[3] == ' ';
		if (last) {
			/* Keep the text printable for logs and DSNs. */
			snprintf(c->reply_text, sizeof(c->reply_text), "%s", line);
			for (char *p = c->reply_text; *p; p++)
				if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
					*p = '?';
		}
		free(line);
		if (last) {
			c->reply_lines = 0;
			log_event(LOG_DEBUG, "client_reply", "nexthop", c->job.host, "state",
				  client_state_names[c->state], "reply", c->reply_text, NULL);
			client_reply(c);
			if (c->state == CLIENT_DONE) {
				client_finish(c);
				return;
			}
			if (c->bev != bev)
				return;  /* STARTTLS: the TLS layer reads from now on */
		}
	}
}

static void client_writecb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	if (c->state == CLIENT_BODY && !c->body_sent)
		body_send_some(c);
}

static void client_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	if ((what & BEV_EVENT_CONNECTED) && c->tls_handshaking) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		c->tls_handshaking = false;
		c->tls_active = true;
		snprintf(c->tls_info, sizeof(c->tls_info), "%s/%s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
		log_event(LOG_INFO, "client_tls", "nexthop", c->job.host, "version", SSL_get_version(ssl),
			  "cipher", SSL_get_cipher_name(ssl), NULL);
		client_enter(c, CLIENT_EHLO);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		client_enter(c, CLIENT_GREETING);
		return;
	}
	if (c->tls_handshaking) {
		/* TLS-7: a failed handshake (version too old, certificate not
		 * valid under verify) defers; nothing is sent in clear. */
		char why[300], err[200] = "handshake failed";
		unsigned long e = bufferevent_get_openssl_error(c->bev);
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		long vr = ssl && c->job.tls_level == TLS_LEVEL_VERIFY ? SSL_get_verify_result(ssl) : X509_V_OK;
		if (vr != X509_V_OK)
			snprintf(err, sizeof(err), "certificate: %s", X509_verify_cert_error_string(vr));
		else if (e)
			ERR_error_string_n(e, err, sizeof(err));
		while (bufferevent_get_openssl_error(c->bev))
			;
		snprintf(why, sizeof(why), "TLS %s", err);
		fail_remaining(c, 451, "451 4.7.5 %s:%s: %s", c->job.host, c->job.port, why);
		client_finish(c);
		return;
	}
	if (c->state == CLIENT_QUIT) {  /* closed after QUIT: fine */
		client_finish(c);
		return;
	}
	const char *why = (what & BEV_EVENT_TIMEOUT) ? "timeout"
			  : (what & BEV_EVENT_EOF) ? "connection closed by peer"
			  : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
	client_abort(c, why);
}

static void client_enter(struct client *c, enum client_state st)
{
	log_event(LOG_DEBUG, "client_state", "nexthop", c->job.host, "state", client_state_names[st], NULL);
	c->state = st;
	const struct smtp_client_job *j = &c->job;
	switch (st) {
	case CLIENT_CONNECT:
		break;
	case CLIENT_GREETING:
		bufferevent_set_timeouts(c->bev, &(struct timeval){ .tv_sec = j->reply_timeout },
					 &(struct timeval){ .tv_sec = j->reply_timeout });
		break;
	case CLIENT_EHLO:
		c->n_caps = 0;
		client_send(c, "%s %s", j->lmtp ? "LHLO" : "EHLO", j->helo_name);
		break;
	case CLIENT_HELO:
		client_send(c, "HELO %s", j->helo_name);
		break;
	case CLIENT_MAIL:
		if (j->smtputf8 && !c->peer_smtputf8) {
			/* RFC 6531 3.4: such a message must not go to a server without SMTPUTF8. */
			fail_remaining(c, 553, "553 5.6.7 %s does not support SMTPUTF8", j->host);
			client_enter(c, CLIENT_QUIT);
			return;
		}
		client_send(c, "MAIL FROM:<%s>%s%s", j->sender,
			    j->body_8bit && c->peer_8bitmime ? " BODY=8BITMIME" : "",
			    j->smtputf8 ? " SMTPUTF8" : "");
		break;
	case CLIENT_RCPT:
		client_send(c, "RCPT TO:<%s>", j->rcpts[c->rcpt_index]);
		break;
	case CLIENT_DATA:
		client_send(c, "DATA");
		break;
	case CLIENT_BODY:
		c->body_pos = j->body_offset;
		c->at_line_start = true;
		c->rcpt_index = 0;
		body_send_some(c);
		break;
	case CLIENT_QUIT:
		client_send(c, "QUIT");
		break;
	case CLIENT_STARTTLS:
		client_send(c, "STARTTLS");
		break;
	case CLIENT_DONE:
		break;
	}
}

void smtp_client_start(struct event_base *base, const struct smtp_client_job *job,
		       smtp_client_done_cb done, void *arg)
{
	struct client *c = xcalloc(1, sizeof(*c));
	c->job = *job;
	c->done = done;
	c->arg = arg;
	c->replies = xcalloc(job->n_rcpts, sizeof(*c->replies));
	c->accepted = xcalloc(job->n_rcpts, sizeof(*c->accepted));
	c->state = CLIENT_CONNECT;

	/* Numeric next hops resolve without DNS; names use the system
	 * resolver for now (asynchronous DNS comes with MX routing). */
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	int rc = getaddrinfo(job->host, job->port, &hints, &ai);
	if (rc != 0) {
		fail_remaining(c, 451, "451 4.4.3 %s: host lookup failed: %s", job->host, gai_strerror(rc));
		client_finish(c);
		return;
	}
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, client_readcb, client_writecb, client_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, BODY_CHUNK / 2, 0);
	bufferevent_set_timeouts(c->bev, &(struct timeval){ .tv_sec = job->connect_timeout },
				 &(struct timeval){ .tv_sec = job->connect_timeout });
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, ai->ai_addr, (int)ai->ai_addrlen) < 0) {
		freeaddrinfo(ai);
		client_abort(c, "connect failed");
		return;
	}
	freeaddrinfo(ai);
}
