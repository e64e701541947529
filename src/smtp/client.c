#include "smtp/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
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
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/queue.h>

#include "config/config.h"
#include "dns/tlsa.h"
#include "net/addr_text.h"
#include "net/srcaddr.h"
#include "smtp/downgrade.h"
#include "smtp/reply_reader.h"
#include "smtp/sasl_client.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/monotime.h"

#define BODY_CHUNK (64u * 1024)

enum client_state {
	CLIENT_CONNECT, CLIENT_GREETING, CLIENT_EHLO, CLIENT_HELO, CLIENT_MAIL,
	CLIENT_RCPT, CLIENT_DATA, CLIENT_BODY, CLIENT_QUIT, CLIENT_DONE,
	CLIENT_STARTTLS,    /* STARTTLS sent; 220 starts the handshake, then EHLO again */
	CLIENT_AUTH,        /* a step of AUTH sent (smtp/sasl_client.h); 235 leads to MAIL */
};

static const char *client_state_names[] = {
	"connect", "greeting", "ehlo", "helo", "mail", "rcpt", "data", "body", "quit", "done",
	"starttls", "auth",
};

struct client {
	struct smtp_client_job job;
	struct event_base *base;
	TAILQ_ENTRY(client) pool_link;  /* the pool's running clients, from start to finish */
	TAILQ_ENTRY(client) wait_link;
	struct dest *waiting_for;   /* in its waiting list: no slot yet */
	struct dest *dest;          /* holds one of its slots while connected */
	unsigned messages;          /* on this connection, this one included */
	bool reused;                /* started on a parked connection */
	struct bufferevent *bev;
	enum client_state state;
	smtp_client_done_cb done;
	void *arg;
	struct smtp_client_reply *replies;
	bool *accepted;
	size_t rcpt_index;          /* RCPT: next to send; BODY (LMTP): next reply */
	size_t n_accepted;
	bool peer_smtputf8, peer_8bitmime, peer_size, peer_dsn, peer_pipelining, peer_requiretls;
	unsigned long long peer_size_max;   /* SIZE argument; 0: no limit given */
	/* RFC 2920: MAIL, every RCPT and DATA went out in one write; their
	 * replies come in that order. skip: replies still to be read and
	 * ignored (after MAIL was refused) before after_skip is entered. */
	bool pipelined;
	unsigned skip;
	enum client_state after_skip;
	/* addresses to try, the current one, and whether MAIL was sent on it */
	struct sockaddr_storage *addrs;
	size_t n_addrs, cur_addr;
	char cur_mta[64];
	bool mail_sent;
	int64_t ready_ms;           /* first entry into MAIL (the replies' ready_ms) */
	char last_error[300];
	/* the reply being read */
	struct reply_reader reply;
	/* body streaming */
	off_t body_pos;
	bool at_line_start, body_sent, last_was_lf;
	bool body_any;          /* some of the message was sent (the final CRLF is due) */
	char *conv;             /* the message converted to 7 bits (prefix included), or NULL */
	size_t conv_len;
	/* TLS */
	bool tls_handshaking, tls_active;
	bool tls_failed;        /* the handshake with this address failed: no STARTTLS again */
	bool tls_verified;      /* the certificate is valid for the name checked */
	char tls_info[128];
	/* AUTH to a smart host (issue 15): the job's credentials, copied
	 * (wiped at the end); authenticated once per connection */
	struct sasl_creds auth;
	bool has_auth, authenticated;
	enum sasl_client_mech auth_mech;
	unsigned auth_step;
};

static void client_enter(struct client *c, enum client_state st);

/* --- the connection pool ------------------------------------------------ */

/* A parked connection: idle after a finished transaction, ready for MAIL. */
struct idle_conn {
	TAILQ_ENTRY(idle_conn) link;
	struct smtp_client_pool *pool;
	char key[400];
	struct bufferevent *bev;
	struct event *timer;
	bool peer_smtputf8, peer_8bitmime, peer_size, peer_dsn, peer_pipelining, peer_requiretls;
	unsigned long long peer_size_max;
	char mta[64];
	unsigned messages;
	bool tls_active, tls_verified, authenticated;
	char tls_info[128];
};

/* Open connections per key (busy and idle). */
struct dest {
	TAILQ_ENTRY(dest) link;
	char key[400];
	unsigned open;
	TAILQ_HEAD(, client) waiting;   /* jobs waiting for a slot */
};

struct smtp_client_pool {
	struct event_base *base;
	unsigned per_destination, idle_timeout, max_messages;
	bool reuse;
	bool stopped;                   /* smtp_client_pool_stop() ran: no new session */
	TAILQ_HEAD(, client) clients;   /* every job started and not yet finished */
	TAILQ_HEAD(, idle_conn) idle;
	TAILQ_HEAD(, dest) dests;
};

__attribute__((format(printf, 2, 3))) static void client_send(struct client *c, const char *fmt, ...)
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
__attribute__((format(printf, 3, 4))) static void fail_remaining(struct client *c, int code, const char *fmt, ...)
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
			snprintf(c->replies[i].mta, sizeof(c->replies[i].mta), "%s", c->cur_mta);
		}
}

static void client_connect(struct client *c);
static void client_readcb(struct bufferevent *bev, void *arg);
static void client_writecb(struct bufferevent *bev, void *arg);
static void client_eventcb(struct bufferevent *bev, short what, void *arg);

static struct dest *dest_get(struct smtp_client_pool *p, const char *key)
{
	struct dest *d;
	TAILQ_FOREACH(d, &p->dests, link)
		if (strcmp(d->key, key) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	snprintf(d->key, sizeof(d->key), "%s", key);
	TAILQ_INIT(&d->waiting);
	TAILQ_INSERT_TAIL(&p->dests, d, link);
	return d;
}

/* Take over a parked (or handed-over) connection: the session is past
 * EHLO and a transaction, so the next state is MAIL. */
static void client_adopt(struct client *c, struct idle_conn *ic)
{
	c->bev = ic->bev;
	c->peer_smtputf8 = ic->peer_smtputf8;
	c->peer_8bitmime = ic->peer_8bitmime;
	c->peer_size = ic->peer_size;
	c->peer_dsn = ic->peer_dsn;
	c->peer_pipelining = ic->peer_pipelining;
	c->peer_requiretls = ic->peer_requiretls;
	c->peer_size_max = ic->peer_size_max;
	c->tls_active = ic->tls_active;
	c->tls_verified = ic->tls_verified;
	c->authenticated = ic->authenticated;
	snprintf(c->tls_info, sizeof(c->tls_info), "%s", ic->tls_info);
	c->messages = ic->messages + 1;
	c->mail_sent = false;
	c->reused = true;
	snprintf(c->cur_mta, sizeof(c->cur_mta), "%s", ic->mta);
	bufferevent_setcb(c->bev, client_readcb, client_writecb, client_eventcb, c);
	bufferevent_set_timeouts(c->bev, &(struct timeval){ .tv_sec = c->job.reply_timeout },
				 &(struct timeval){ .tv_sec = c->job.reply_timeout });
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_event(LOG_DEBUG, "client_reuse", "nexthop", c->job.pool_key, "mta", c->cur_mta,
		  "message", log_u64(c->messages), NULL);
	client_enter(c, CLIENT_MAIL);
}

static void idle_free(struct idle_conn *ic, bool quit);

/* A slot of d came free (a connection closed): start a waiting job,
 * unless the pool is stopping (it ends the waiting jobs itself). */
static void dest_wake(struct smtp_client_pool *p, struct dest *d)
{
	struct client *w = TAILQ_FIRST(&d->waiting);
	if (!w || p->stopped)
		return;
	TAILQ_REMOVE(&d->waiting, w, wait_link);
	w->waiting_for = NULL;
	d->open++;
	w->dest = d;
	client_connect(w);
}

static void client_release_slot(struct client *c)
{
	struct dest *d = c->dest;
	if (!d)
		return;
	c->dest = NULL;
	d->open--;
	dest_wake(c->job.pool, d);
}

static void client_finish(struct client *c)
{
	for (size_t i = 0; i < c->job.n_rcpts; i++) {
		snprintf(c->replies[i].tls, sizeof(c->replies[i].tls), "%s",
			 c->tls_active ? c->tls_info : c->tls_failed ? "none (TLS handshake failed)" : "none");
		c->replies[i].tls_verified = c->tls_active && c->tls_verified;
		c->replies[i].ready_ms = c->ready_ms;
	}
	c->done(c->arg, c->replies, c->job.n_rcpts);
	if (c->bev)
		bufferevent_free(c->bev);
	TAILQ_REMOVE(&c->job.pool->clients, c, pool_link);
	client_release_slot(c);
	free(c->replies);
	free(c->accepted);
	free(c->addrs);
	free(c->conv);
	OPENSSL_cleanse(&c->auth, sizeof(c->auth));
	free(c);
}

static void idle_readcb(struct bufferevent *bev, void *arg)
{
	idle_free(arg, false);  /* a parked peer speaks only to say goodbye (421) */
}

static void idle_eventcb(struct bufferevent *bev, short what, void *arg)
{
	idle_free(arg, false);
}

static void idle_timeout(evutil_socket_t fd, short what, void *arg)
{
	idle_free(arg, true);
}

static void idle_free(struct idle_conn *ic, bool quit)
{
	struct smtp_client_pool *p = ic->pool;
	TAILQ_REMOVE(&p->idle, ic, link);
	if (quit) {  /* best effort; the socket is closed right after */
		evutil_socket_t fd = bufferevent_getfd(ic->bev);
		if (fd >= 0 && send(fd, "QUIT\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			(void)0;
	}
	bufferevent_free(ic->bev);
	event_free(ic->timer);
	struct dest *d = dest_get(p, ic->key);
	d->open--;
	free(ic);
	dest_wake(p, d);
}

/* After a complete transaction: hand the connection to a job waiting for
 * this next hop, or park it, or QUIT. Sets CLIENT_DONE when it kept the
 * connection (the caller then finishes the client). */
static void client_end(struct client *c)
{
	struct smtp_client_pool *p = c->job.pool;
	if (!p->reuse || c->messages >= p->max_messages || !c->dest) {
		client_enter(c, CLIENT_QUIT);
		return;
	}
	struct idle_conn *ic = xcalloc(1, sizeof(*ic));
	ic->pool = p;
	snprintf(ic->key, sizeof(ic->key), "%s", c->job.pool_key);
	ic->bev = c->bev;
	ic->peer_smtputf8 = c->peer_smtputf8;
	ic->peer_8bitmime = c->peer_8bitmime;
	ic->peer_size = c->peer_size;
	ic->peer_dsn = c->peer_dsn;
	ic->peer_pipelining = c->peer_pipelining;
	ic->peer_requiretls = c->peer_requiretls;
	ic->peer_size_max = c->peer_size_max;
	ic->tls_active = c->tls_active;
	ic->tls_verified = c->tls_verified;
	ic->authenticated = c->authenticated;
	snprintf(ic->tls_info, sizeof(ic->tls_info), "%s", c->tls_info);
	ic->messages = c->messages;
	snprintf(ic->mta, sizeof(ic->mta), "%s", c->cur_mta);
	c->bev = NULL;
	struct dest *d = c->dest;
	c->dest = NULL;   /* the slot goes with the connection */
	c->state = CLIENT_DONE;
	struct client *w = TAILQ_FIRST(&d->waiting);
	if (w) {
		TAILQ_REMOVE(&d->waiting, w, wait_link);
		w->waiting_for = NULL;
		w->dest = d;
		client_adopt(w, ic);
		free(ic);
		return;
	}
	bufferevent_setcb(ic->bev, idle_readcb, NULL, idle_eventcb, ic);
	bufferevent_set_timeouts(ic->bev, NULL, NULL);
	bufferevent_enable(ic->bev, EV_READ);
	ic->timer = evtimer_new(p->base, idle_timeout, ic);
	evtimer_add(ic->timer, &(struct timeval){ .tv_sec = p->idle_timeout });
	TAILQ_INSERT_TAIL(&p->idle, ic, link);
}

struct smtp_client_pool *smtp_client_pool_new(struct event_base *base, unsigned per_destination, bool reuse,
					      unsigned idle_timeout, unsigned max_messages)
{
	struct smtp_client_pool *p = xcalloc(1, sizeof(*p));
	p->base = base;
	p->per_destination = per_destination ? per_destination : 1;
	p->reuse = reuse;
	p->idle_timeout = idle_timeout;
	p->max_messages = max_messages;
	TAILQ_INIT(&p->clients);
	TAILQ_INIT(&p->idle);
	TAILQ_INIT(&p->dests);
	return p;
}

static void client_cut(struct client *c, const char *why);

void smtp_client_pool_stop(struct smtp_client_pool *p)
{
	if (p->stopped)
		return;
	p->stopped = true;
	struct client *c;
	while ((c = TAILQ_FIRST(&p->clients)) != NULL)
		client_cut(c, "the queue is stopping");
	struct idle_conn *ic;
	while ((ic = TAILQ_FIRST(&p->idle)) != NULL)
		idle_free(ic, true);
}

void smtp_client_pool_free(struct smtp_client_pool *p)
{
	smtp_client_pool_stop(p);
	struct dest *d;
	while ((d = TAILQ_FIRST(&p->dests)) != NULL) {
		TAILQ_REMOVE(&p->dests, d, link);
		free(d);
	}
	free(p);
}

/* Before MAIL was sent, a failing host is skipped for the next address
 * (RFC 5321 5.1: try the next MX). Returns true if another is tried. */
static bool client_try_next(struct client *c, const char *why)
{
	/* cut to fit: the start of the reason is what the log needs */
	snprintf(c->last_error, sizeof(c->last_error), "%.63s: %.*s", c->cur_mta, (int)sizeof(c->last_error) - 66, why);
	if (c->mail_sent || c->cur_addr + 1 >= c->n_addrs)
		return false;
	log_event(LOG_INFO, "client_next_host", "nexthop", c->job.host, "failed", c->cur_mta, "why", why, NULL);
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	c->cur_addr++;
	c->reply.lines = 0;
	c->reply.n_caps = 0;
	c->peer_size_max = 0;
	c->tls_failed = false;
	c->tls_active = false;   /* a new connection: whatever the last one had */
	c->tls_verified = false;
	c->authenticated = false;
	client_connect(c);
	return true;
}

/* A failure of the whole session: a synthesized temporary reply. */
static void client_abort(struct client *c, const char *why)
{
	char what[200];
	snprintf(what, sizeof(what), "%s (in state %s)", why, client_state_names[c->state]);
	if (c->reused && c->state == CLIENT_MAIL) {
		/* A parked connection the peer closed meanwhile: not the
		 * message's fault; start over on a fresh connection, once. */
		log_event(LOG_DEBUG, "client_reuse_failed", "nexthop", c->job.host, "why", why, NULL);
		c->reused = false;
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->messages = 1;
		c->mail_sent = false;
		c->cur_addr = 0;
		c->tls_active = false;
		c->tls_verified = false;
		c->authenticated = false;
		c->reply.lines = 0;
		client_connect(c);
		return;
	}
	if (client_try_next(c, what))
		return;
	fail_remaining(c, 451, "451 4.4.2 %s[%s]: %s", c->job.host, c->cur_mta, what);
	client_finish(c);
}

/* Our side ends the session (the pool is stopping): no next address, no
 * retry, no QUIT and no wait for the peer; the socket is closed in the
 * middle of whatever the session was doing. Recipients without a final
 * reply get a temporary failure, so their message stays queued. A peer
 * that had the whole message but not yet answered may deliver it: then
 * the retry after the restart is a duplicate, never a loss. */
static void client_cut(struct client *c, const char *why)
{
	if (c->waiting_for) {
		TAILQ_REMOVE(&c->waiting_for->waiting, c, wait_link);
		c->waiting_for = NULL;
	}
	log_event(LOG_INFO, "client_cut", "nexthop", c->job.host, "mta", c->cur_mta, "state",
		  client_state_names[c->state], "why", why, NULL);
	fail_remaining(c, 451, "451 4.3.0 %s[%s]: delivery cut short in state %s: %s", c->job.host,
		       c->cur_mta[0] ? c->cur_mta : "-", client_state_names[c->state], why);
	client_finish(c);
}

/* A refusal of the session before MAIL (greeting, EHLO/HELO): the next
 * address if there is one, else the reply goes to every recipient. */
static void client_refused(struct client *c)
{
	if (client_try_next(c, c->reply.text)) {
		return;
	}
	fail_remaining(c, c->reply.code, "%s", c->reply.text);
	client_enter(c, CLIENT_QUIT);
}

/* --- body ----------------------------------------------------------------- */

/* Dot-stuffing (RFC 5321 4.5.2): a line starting with "." gets another;
 * only line starts matter, so hop from one LF to the next. */
static void stuff_into(struct client *c, struct evbuffer *out, const char *in, size_t n)
{
	if (n == 0)
		return;
	size_t start = 0;
	for (size_t i = 0; i < n;) {
		if (c->at_line_start && in[i] == '.') {
			evbuffer_add(out, in + start, i - start);
			evbuffer_add(out, ".", 1);
			start = i;
		}
		const char *lf = memchr(in + i, '\n', n - i);
		c->at_line_start = lf != NULL;
		i = lf ? (size_t)(lf - in) + 1 : n;
	}
	evbuffer_add(out, in + start, n - start);
	c->last_was_lf = in[n - 1] == '\n';
	c->body_any = true;
}

/* Up to want bytes of the message at body_pos: from the converted copy
 * when there is one, else from the spool file. */
static ssize_t body_read(struct client *c, char *buf, size_t want)
{
	if (!c->conv)
		return want ? pread(c->job.body_fd, buf, want, c->body_pos) : 0;
	memcpy(buf, c->conv + c->body_pos, want);
	return (ssize_t)want;
}

/* The message: the job's prefix (headers the queue adds), then the spool
 * file from body_offset to body_end — never further (the spool's trailer
 * follows). The spool holds CRLF lines only (smtpd refused bare CR/LF).
 * Converted to 7 bits (conv), it is sent from memory instead. */
static void body_send_some(struct client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	static char in[BODY_CHUNK];
	off_t end = c->conv ? (off_t)c->conv_len : c->job.body_end;
	while (!c->body_sent && evbuffer_get_length(out) < BODY_CHUNK) {
		off_t left = end - c->body_pos;
		size_t want = left < (off_t)sizeof(in) ? (size_t)left : sizeof(in);
		ssize_t n = body_read(c, in, want);
		if (n < 0 || (want > 0 && n == 0)) {
			client_abort(c, "spool read error");
			return;
		}
		if (n == 0) {
			if (!c->last_was_lf && c->body_any)
				evbuffer_add(out, "\r\n", 2);
			evbuffer_add(out, ".\r\n", 3);
			c->body_sent = true;
			bufferevent_set_timeouts(c->bev, &(struct timeval){ .tv_sec = c->job.reply_timeout }, NULL);
			return;
		}
		stuff_into(c, out, in, (size_t)n);
		c->body_pos += n;
	}
}

/* --- replies --------------------------------------------------------------- */

static bool cap_has(const struct client *c, const char *cap)
{
	return reply_has_cap(&c->reply, cap);
}

static void client_reply(struct client *c);
static void client_readcb(struct bufferevent *bev, void *arg);
static void client_writecb(struct bufferevent *bev, void *arg);
static void client_eventcb(struct bufferevent *bev, short what, void *arg);

/* RFC 3207 as the client, after the 220: bytes the server sent behind its
 * 220 are dropped (they came in clear), then the handshake runs over the
 * same socket. Its end (client_eventcb) sends EHLO again. */
static const struct tlsa_set *client_dane(const struct client *c)
{
	return c->job.tls_dane && c->cur_addr < c->job.n_addrs ? c->job.tls_dane[c->cur_addr] : NULL;
}

/* The TLS level for the address being tried: DANE (RFC 7672 2.2) makes
 * authenticated TLS mandatory for a host with usable TLSA records. */
static int client_tls_level(const struct client *c)
{
	return client_dane(c) ? TLS_LEVEL_VERIFY : c->job.tls_level;
}

/* RFC 7672 3.1 with OpenSSL's DANE verifier: DANE-EE(3) matches the leaf
 * alone, without name checks (3.1.1) or expiry; DANE-TA(2) anchors a
 * chain whose leaf must name the MX host (the TLSA base domain, 3.2.3).
 * False: TLS cannot be set up. */
static bool client_set_dane(SSL *ssl, const struct tlsa_set *t, const char *name)
{
	if (SSL_dane_enable(ssl, name) <= 0)
		return false;
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (size_t i = 0; i < t->n; i++)
		SSL_dane_tlsa_add(ssl, t->r[i].usage, t->r[i].selector, t->r[i].mtype, t->r[i].data, t->r[i].len);
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return true;
}

/* TLS-RPT: what the attempt with the current address came to. */
static void client_note_tls(struct client *c, enum smtp_tls_outcome outcome, long verify_error)
{
	const struct smtp_client_job *j = &c->job;
	if (!j->tls_attempt)
		return;
	const char *name = j->tls_names && c->cur_addr < j->n_addrs ? j->tls_names[c->cur_addr]
			   : j->tls_name ? j->tls_name : j->host;
	/* our end of the connection: the report's sending-mta-ip */
	char source[INET6_ADDRSTRLEN] = "";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = c->bev ? bufferevent_getfd(c->bev) : -1;
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		addr_text((struct sockaddr *)&ss, source);
	const struct smtp_tls_attempt a = { outcome, verify_error, name ? name : "", c->cur_mta, source };
	j->tls_attempt(c->arg, &a);
}

/* TLS could not even start: defer. After STARTTLS the session ends
 * with QUIT; with implicit TLS nothing may go in clear, not even QUIT. */
static void client_tls_setup_failed(struct client *c, const char *what)
{
	fail_remaining(c, 451, "451 4.7.5 %s:%s: cannot set up %s", c->job.host, c->job.port, what);
	if (c->state == CLIENT_CONNECT)
		client_finish(c);
	else
		client_enter(c, CLIENT_QUIT);
}

static void client_start_tls(struct client *c)
{
	const struct smtp_client_job *j = &c->job;
	SSL *ssl = SSL_new(j->tls_ctx);
	if (!ssl) {
		client_tls_setup_failed(c, "TLS");
		return;
	}
	int min = j->tls_min_version ? j->tls_min_version : TLS1_2_VERSION;
	SSL_set_min_proto_version(ssl, min);
	const char *name = j->tls_names && c->cur_addr < j->n_addrs ? j->tls_names[c->cur_addr]
			   : j->tls_name ? j->tls_name : j->host;
	unsigned char addr[16];
	bool numeric = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
	if (!numeric)
		SSL_set_tlsext_host_name(ssl, name);
	/* The name is checked at every level: below verify a mismatch only
	 * shows in SSL_get_verify_result() (tls_verified), it does not stop
	 * the handshake. */
	const struct tlsa_set *dane = client_dane(c);
	bool ok = true;
	if (dane)
		ok = client_set_dane(ssl, dane, name);
	else if (numeric)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
	else
		SSL_set1_host(ssl, name);
	if (j->tls_level == TLS_LEVEL_VERIFY)
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	if (!ok) {
		SSL_free(ssl);
		client_tls_setup_failed(c, "DANE");
		return;
	}
	struct bufferevent *under = c->bev;
	evbuffer_drain(bufferevent_get_input(under), evbuffer_get_length(bufferevent_get_input(under)));
	struct bufferevent *bev = bufferevent_openssl_filter_new(
		bufferevent_get_base(under), under, ssl, BUFFEREVENT_SSL_CONNECTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		client_tls_setup_failed(c, "TLS");
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
	c->replies[i].code = c->reply.code;
	snprintf(c->replies[i].text, sizeof(c->replies[i].text), "%s", c->reply.text);
	snprintf(c->replies[i].mta, sizeof(c->replies[i].mta), "%s", c->cur_mta);
	c->replies[i].dsn_passed = c->peer_dsn;
}

static size_t next_accepted(const struct client *c, size_t from)
{
	while (from < c->job.n_rcpts && !c->accepted[from])
		from++;
	return from;
}

/* A state change without an entry action: with PIPELINING the command
 * of the next state is already on its way. */
static void client_expect(struct client *c, enum client_state st)
{
	log_event(LOG_DEBUG, "client_state", "nexthop", c->job.host, "state", client_state_names[st],
		  "pipelined", "yes", NULL);
	c->state = st;
}

/* TLS-7: under encrypt or verify nothing goes in clear. True when the
 * session has no TLS but needs it: the rest is deferred (451 4.7.5, tried
 * again later) and the client quits. */
static bool refuse_cleartext(struct client *c, const char *why)
{
	if (c->tls_active || client_tls_level(c) < TLS_LEVEL_ENCRYPT)
		return false;
	if (c->has_auth)
		log_event(LOG_ERR, "client_auth_failed", "nexthop", c->job.host, "mta", c->cur_mta, "why", why,
			  "action", "deferred: the credentials are sent only over TLS", NULL);
	fail_remaining(c, 451, "451 4.7.5 %s:%s %s; TLS is required for this destination", c->job.host,
		       c->job.port, why);
	client_enter(c, CLIENT_QUIT);
	return true;
}

static void client_auth_reply(struct client *c);

static void client_reply(struct client *c)
{
	int code = c->reply.code;
	bool ok = code >= 200 && code < 300;
	if (c->skip > 0) {
		if (--c->skip == 0)
			client_enter(c, c->after_skip);
		return;
	}
	switch (c->state) {
	case CLIENT_GREETING:
		if (ok)
			client_enter(c, CLIENT_EHLO);
		else
			client_refused(c);
		break;
	case CLIENT_EHLO:
		if (ok) {
			c->peer_smtputf8 = cap_has(c, "SMTPUTF8");
			c->peer_8bitmime = cap_has(c, "8BITMIME");
			c->peer_size = cap_has(c, "SIZE");
			c->peer_dsn = cap_has(c, "DSN");
			c->peer_pipelining = cap_has(c, "PIPELINING");
			c->peer_requiretls = cap_has(c, "REQUIRETLS");
			if (!c->tls_active && !c->tls_failed && c->job.tls_ctx &&
			    client_tls_level(c) != TLS_LEVEL_NONE && cap_has(c, "STARTTLS")) {
				client_enter(c, CLIENT_STARTTLS);
				return;
			}
			if (!c->tls_active && !c->tls_failed && !cap_has(c, "STARTTLS"))
				client_note_tls(c, SMTP_TLS_NOT_OFFERED, 0);
			if (!refuse_cleartext(c, "does not offer STARTTLS"))
				client_enter(c, CLIENT_MAIL);
		} else if (!c->job.lmtp && code >= 500) {
			client_enter(c, CLIENT_HELO);
		} else {
			client_refused(c);
		}
		break;
	case CLIENT_HELO:
		/* A peer without ESMTP has no STARTTLS either (attack case 104 D_1). */
		if (ok && !c->tls_active && !c->tls_failed)
			client_note_tls(c, SMTP_TLS_NOT_OFFERED, 0);
		if (ok && !refuse_cleartext(c, "does not speak ESMTP (no STARTTLS)"))
			client_enter(c, CLIENT_MAIL);
		else if (!ok)
			client_refused(c);
		break;
	case CLIENT_MAIL:
		if (ok && c->pipelined) {
			client_expect(c, CLIENT_RCPT);
		} else if (ok) {
			client_enter(c, CLIENT_RCPT);
		} else {
			fail_remaining(c, code, "%s", c->reply.text);
			if (c->pipelined) {  /* the RCPT and DATA replies are still coming */
				c->skip = (unsigned)c->job.n_rcpts + 1;
				c->after_skip = CLIENT_QUIT;
			} else {
				client_enter(c, CLIENT_QUIT);
			}
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
		if (c->pipelined)
			client_expect(c, c->rcpt_index < c->job.n_rcpts ? CLIENT_RCPT : CLIENT_DATA);
		else if (c->rcpt_index < c->job.n_rcpts)
			client_enter(c, CLIENT_RCPT);
		else if (c->n_accepted > 0)
			client_enter(c, CLIENT_DATA);
		else
			client_enter(c, CLIENT_QUIT);
		break;
	case CLIENT_DATA:
		if (c->n_accepted == 0) {
			/* Pipelined DATA after every RCPT was refused (RFC 2920 3.1):
			 * a server that still says 354 gets an empty message ended
			 * at once, and its reply is ignored. */
			if (code == 354) {
				client_send(c, ".");
				c->skip = 1;
				c->after_skip = CLIENT_QUIT;
			} else {
				client_enter(c, CLIENT_QUIT);
			}
		} else if (code == 354) {
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
			client_end(c);
			break;
		}
		/* LMTP (RFC 2033 4.2): one reply per accepted recipient, in order. */
		c->rcpt_index = next_accepted(c, c->rcpt_index);
		record_rcpt_reply(c, c->rcpt_index);
		c->rcpt_index = next_accepted(c, c->rcpt_index + 1);
		if (c->rcpt_index >= c->job.n_rcpts)
			client_end(c);
		break;
	case CLIENT_STARTTLS:
		if (code == 220) {
			client_start_tls(c);
			break;
		}
		client_note_tls(c, SMTP_TLS_NOT_OFFERED, 0);
		if (client_tls_level(c) >= TLS_LEVEL_ENCRYPT) {
			fail_remaining(c, 451, "451 4.7.5 %s:%s refused STARTTLS: %s", c->job.host, c->job.port,
				       c->reply.text);
			client_enter(c, CLIENT_QUIT);
		} else {
			client_enter(c, CLIENT_MAIL);  /* opportunistic: go on in clear */
		}
		break;
	case CLIENT_AUTH:
		client_auth_reply(c);
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
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (!line) {
			if (evbuffer_get_length(in) > REPLY_LINE_MAX)
				client_abort(c, "reply line too long");
			return;
		}
		enum reply_step step = reply_read_line(&c->reply, line, len, c->state == CLIENT_EHLO,
						       &c->peer_size_max);
		free(line);
		if (step == REPLY_MALFORMED) {
			client_abort(c, "malformed reply");
			return;
		}
		if (step == REPLY_LAST) {
			log_event(LOG_DEBUG, "client_reply", "nexthop", c->job.host, "state",
				  client_state_names[c->state], "reply", c->reply.text, NULL);
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

/*
 * Issue 16 item 7, TLS-5: under level may, TLS is opportunistic. A peer
 * that offers STARTTLS but cannot complete the handshake (broken key,
 * closed after 220, no common version) would otherwise hold the mail
 * back forever, although it takes mail in clear: connect to the same
 * address again at once and go on without STARTTLS, as opportunistic
 * senders (Postfix) do. Logged with the reason. Returns false (defer)
 * under encrypt and verify, and once this address failed already.
 */
static bool client_tls_fallback(struct client *c, const char *why)
{
	if (client_tls_level(c) != TLS_LEVEL_MAY || c->tls_failed || c->job.implicit_tls)
		return false;
	log_event(LOG_WARNING, "client_tls_fallback", "nexthop", c->job.host, "mta", c->cur_mta, "why", why,
		  "action", "retry in clear", NULL);
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->tls_handshaking = false;
	c->tls_failed = true;
	c->reply.lines = 0;
	c->reply.n_caps = 0;
	c->peer_size_max = 0;
	client_connect(c);
	return true;
}

static void client_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	if ((what & BEV_EVENT_CONNECTED) && c->tls_handshaking) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		c->tls_handshaking = false;
		c->tls_active = true;
		c->tls_verified = SSL_get0_peer_certificate(ssl) && SSL_get_verify_result(ssl) == X509_V_OK;
		client_note_tls(c, c->tls_verified ? SMTP_TLS_VERIFIED : SMTP_TLS_UNVERIFIED,
				SSL_get0_peer_certificate(ssl) ? SSL_get_verify_result(ssl) : X509_V_ERR_UNSPECIFIED);
		snprintf(c->tls_info, sizeof(c->tls_info), "%s/%s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
		log_event(LOG_INFO, "client_tls", "nexthop", c->job.host, "version", SSL_get_version(ssl),
			  "cipher", SSL_get_cipher_name(ssl), NULL);
		metrics_tls(true, SSL_get_version(ssl));
		if (c->state != CLIENT_CONNECT) {  /* after STARTTLS (RFC 3207 4.2): EHLO again */
			client_enter(c, CLIENT_EHLO);
			return;
		}
		/* Implicit TLS: the greeting comes now, maybe already read. */
		client_enter(c, CLIENT_GREETING);
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			client_readcb(c->bev, c);
		return;
	}
	if ((what & BEV_EVENT_CONNECTED) && c->job.implicit_tls) {
		client_start_tls(c);  /* RFC 8314 3.3: TLS before any SMTP byte */
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		client_enter(c, CLIENT_GREETING);
		return;
	}
	if (c->tls_handshaking) {
		/* TLS-7: a failed handshake (version too old, certificate not
		 * valid under verify) defers under encrypt and verify; nothing
		 * is sent in clear. Under may, see client_tls_fallback. */
		char why[300], err[200] = "handshake failed";
		unsigned long e = bufferevent_get_openssl_error(c->bev);
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		long vr = ssl && client_tls_level(c) == TLS_LEVEL_VERIFY ? SSL_get_verify_result(ssl) : X509_V_OK;
		if (vr != X509_V_OK)
			snprintf(err, sizeof(err), "certificate: %s", X509_verify_cert_error_string(vr));
		else if (e)
			ERR_error_string_n(e, err, sizeof(err));
		while (bufferevent_get_openssl_error(c->bev))
			;
		client_note_tls(c, SMTP_TLS_FAILED, ssl ? SSL_get_verify_result(ssl) : 0);
		snprintf(why, sizeof(why), "TLS %s", err);
		if (client_tls_fallback(c, why))
			return;
		/* Under encrypt and verify (and MTA-STS enforce, RFC 8461 5.1)
		 * a host that fails TLS is skipped like one that is down: the
		 * next MX may have a valid certificate. */
		c->tls_handshaking = false;
		if (client_try_next(c, why))
			return;
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

static void send_rcpt(struct client *c, size_t i)
{
	const struct smtp_client_job *j = &c->job;
	const char *notify = c->peer_dsn && j->rcpt_notify ? j->rcpt_notify[i] : NULL;
	const char *orcpt = c->peer_dsn && j->rcpt_orcpt ? j->rcpt_orcpt[i] : NULL;
	client_send(c, "RCPT TO:<%s>%s%s%s%s", j->rcpts[i], notify ? " NOTIFY=" : "", notify ? notify : "",
		    orcpt ? " ORCPT=" : "", orcpt ? orcpt : "");
}

/*
 * RFC 8689 4.2.1: a REQUIRETLS message goes only over TLS whose
 * certificate was verified (tls_level verify, or DANE) to a server that
 * offers REQUIRETLS after STARTTLS. Another address of the next hop may
 * do (4.2.1: try the other MX hosts); when none does, the rest fails
 * permanently with 5.7.30 before MAIL, so nothing of the message is sent.
 * Returns false when the session ends here.
 */
static bool requiretls_session_ok(struct client *c)
{
	const char *why = !c->tls_active ? "no TLS" : !c->tls_verified ? "TLS certificate not verified"
						 : !c->peer_requiretls ? "REQUIRETLS not offered" : NULL;
	if (!why)
		return true;
	char what[200];
	snprintf(what, sizeof(what), "REQUIRETLS: %s", why);
	if (client_try_next(c, what))
		return false;
	fail_remaining(c, 550, "550 5.7.30 %s:%s: %s; the message requires it (REQUIRETLS, RFC 8689)",
		       c->job.host, c->job.port, why);
	client_enter(c, CLIENT_QUIT);
	return false;
}

/*
 * RFC 6152 3: 8-bit data must not go to a server without 8BITMIME.
 * Issue 16 item 11: rather than bounce, convert the MIME parts to 7 bits
 * (quoted-printable, base64; smtp/downgrade.h) and send that; the spool
 * file stays as it is. What cannot be converted (8-bit headers) bounces
 * with 554 5.6.3; a spool or parse failure is retried later. Returns
 * false when the transaction ends here (QUIT entered).
 */
static bool client_downgrade(struct client *c)
{
	const struct smtp_client_job *j = &c->job;
	if (c->conv)
		return true;  /* converted for an earlier connection of this job */
	char why[200];
	enum downgrade_status st = downgrade_spool(j->body_fd, j->body_offset, j->body_end, j->prefix,
						   j->prefix_len, &c->conv, &c->conv_len, why, sizeof(why));
	if (st == DOWNGRADE_OK) {
		log_event(LOG_INFO, "client_downgrade", "nexthop", j->host, "mta", c->cur_mta, "why",
			  "no 8BITMIME", "size", log_u64((unsigned long long)c->conv_len), NULL);
		return true;
	}
	if (st == DOWNGRADE_IMPOSSIBLE)
		fail_remaining(c, 554, "554 5.6.3 %s does not support 8BITMIME and the message cannot be "
			       "converted to 7 bits: %s", j->host, why);
	else
		fail_remaining(c, 451, "451 4.3.0 %s does not support 8BITMIME and converting the message "
			       "failed: %s", j->host, why);
	client_enter(c, CLIENT_QUIT);
	return false;
}

/* --- AUTH to a smart host (issue 15) -------------------------------------- */

/*
 * Every AUTH failure defers the message (451 4.7.0), 535 included: a
 * wrong password or a relay that lost AUTH is the operator's problem,
 * and mail must not bounce for it; the message waits (queue.lifetime)
 * while the log says what to fix. Postfix does the same by default
 * (smtp_sasl_auth_soft_bounce = yes).
 */
static void client_auth_defer(struct client *c, const char *why, const char *reply)
{
	const struct smtp_client_job *j = &c->job;
	log_event(LOG_ERR, "client_auth_failed", "nexthop", j->host, "mta", c->cur_mta, "mech",
		  sasl_client_mech_name(c->auth_mech), "user", c->auth.user, "why", why, "reply", reply ? reply : "",
		  "action", "deferred", NULL);
	fail_remaining(c, 451, "451 4.7.0 %s:%s: AUTH as %s: %s%s%s", j->host, j->port, c->auth.user, why,
		       reply ? ": " : "", reply ? reply : "");
	client_enter(c, CLIENT_QUIT);
}

/* The line of the current step; its copies on our side are wiped. */
static void client_auth_send(struct client *c)
{
	char line[SASL_LINE_MAX + 16];
	if (!sasl_client_step(c->auth_mech, c->auth_step, &c->auth, line, sizeof(line) - 2)) {
		OPENSSL_cleanse(line, sizeof(line));
		client_auth_defer(c, "unexpected 334 challenge", c->reply.text);
		return;
	}
	size_t n = strlen(line);
	line[n++] = '\r';
	line[n++] = '\n';
	bufferevent_write(c->bev, line, n);
	OPENSSL_cleanse(line, sizeof(line));
}

/* RFC 4954 4 and TLS-3's rule for our own server: credentials never
 * cross a connection without TLS. The caller's tls_level (verify) has
 * already deferred a session without TLS; this is the last line. */
static void client_auth_begin(struct client *c)
{
	c->auth_mech = sasl_client_choose(c->reply.auth_mechs);
	c->auth_step = 0;
	if (!c->tls_active)
		client_auth_defer(c, "no TLS on this session; the credentials are sent only over TLS", NULL);
	else if (c->auth_mech == SASL_CLIENT_NONE)
		client_auth_defer(c, c->reply.auth_mechs[0] ? "the relay offers neither AUTH PLAIN nor AUTH LOGIN"
							      : "the relay does not offer AUTH", NULL);
	else
		client_auth_send(c);
}

/* 235: logged in (RFC 4954 6); 334: the next step; anything else fails. */
static void client_auth_reply(struct client *c)
{
	if (c->reply.code == 334) {
		c->auth_step++;
		client_auth_send(c);
	} else if (c->reply.code == 235) {
		c->authenticated = true;
		log_event(LOG_INFO, "client_auth", "nexthop", c->job.host, "mta", c->cur_mta, "mech",
			  sasl_client_mech_name(c->auth_mech), "user", c->auth.user, NULL);
		client_enter(c, CLIENT_MAIL);
	} else {
		client_auth_defer(c, "the relay refused the credentials", c->reply.text);
	}
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
		c->reply.n_caps = 0;
		client_send(c, "%s %s", j->lmtp ? "LHLO" : "EHLO", j->helo_name);
		break;
	case CLIENT_HELO:
		client_send(c, "HELO %s", j->helo_name);
		break;
	case CLIENT_MAIL: {
		if (c->has_auth && !c->authenticated) {  /* RFC 4954 4: AUTH before the transaction */
			client_enter(c, CLIENT_AUTH);
			return;
		}
		if (!c->ready_ms)  /* the end of connection setup (AUTH included), for the delay figures */
			c->ready_ms = monotime_ms();
		unsigned long long size = (unsigned long long)(j->body_end - j->body_offset) + j->prefix_len;
		if (j->smtputf8 && !c->peer_smtputf8) {
			/* RFC 6531 3.4: such a message must not go to a server without SMTPUTF8. */
			fail_remaining(c, 553, "553 5.6.7 %s does not support SMTPUTF8", j->host);
			client_enter(c, CLIENT_QUIT);
			return;
		}
		if (j->requiretls && !requiretls_session_ok(c))
			return;
		if (j->body_8bit && !c->peer_8bitmime && !client_downgrade(c))
			return;
		if (c->conv)
			size = c->conv_len;
		if (c->peer_size && c->peer_size_max && size > c->peer_size_max) {
			/* RFC 1870 6.: do not send what the peer refuses by size. */
			fail_remaining(c, 552, "552 5.3.4 message size %llu exceeds the limit of %s (%llu)", size,
				       j->host, c->peer_size_max);
			client_enter(c, CLIENT_QUIT);
			return;
		}
		char sizearg[40] = "", dsnarg[400] = "";
		if (c->peer_size)
			snprintf(sizearg, sizeof(sizearg), " SIZE=%llu", size);
		if (c->peer_dsn)
			snprintf(dsnarg, sizeof(dsnarg), "%s%s%s%s", j->dsn_ret ? " RET=" : "",
				 j->dsn_ret ? j->dsn_ret : "", j->dsn_envid ? " ENVID=" : "",
				 j->dsn_envid ? j->dsn_envid : "");
		c->mail_sent = true;
		client_send(c, "MAIL FROM:<%s>%s%s%s%s%s", j->sender, sizearg,
			    j->body_8bit && !c->conv ? " BODY=8BITMIME" : "", j->smtputf8 ? " SMTPUTF8" : "", dsnarg,
			    j->requiretls ? " REQUIRETLS" : "");
		/* RFC 2920: with PIPELINING the whole envelope and DATA go in one
		 * write; the replies are matched in order. */
		c->pipelined = c->peer_pipelining;
		if (c->pipelined) {
			for (size_t i = 0; i < j->n_rcpts; i++)
				send_rcpt(c, i);
			client_send(c, "DATA");
		}
		break;
	}
	case CLIENT_RCPT:
		send_rcpt(c, c->rcpt_index);
		break;
	case CLIENT_DATA:
		client_send(c, "DATA");
		break;
	case CLIENT_BODY:
		c->body_pos = c->conv ? 0 : j->body_offset;
		c->at_line_start = true;
		c->body_any = false;
		c->rcpt_index = 0;
		if (!c->conv)
			stuff_into(c, bufferevent_get_output(c->bev), j->prefix, j->prefix_len);
		body_send_some(c);
		break;
	case CLIENT_QUIT:
		client_send(c, "QUIT");
		break;
	case CLIENT_STARTTLS:
		client_send(c, "STARTTLS");
		break;
	case CLIENT_AUTH:
		client_auth_begin(c);
		break;
	case CLIENT_DONE:
		break;
	}
}

/* SEC-3: a socket bound to the configured source address of family, so
 * the peer sees the address whose PTR names our hostname. -1 when none is
 * configured for family (the kernel chooses); -1 with *err set (an errno)
 * when it cannot be bound: never a silent fallback to another source. */
static evutil_socket_t client_source_socket(const struct client *c, int family, int *err)
{
	size_t len;
	const struct sockaddr *src = srcaddr_for(c->job.source, family, &len);
	*err = 0;
	if (!src)
		return -1;
	evutil_socket_t fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, src, (socklen_t)len) < 0) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void client_connect(struct client *c)
{
	const struct sockaddr_storage *ss = &c->addrs[c->cur_addr];
	char host[INET6_ADDRSTRLEN] = "?";
	socklen_t sl = sizeof(struct sockaddr_in);
	if (ss->ss_family == AF_UNIX) {
		snprintf(host, sizeof(host), "unix");
		sl = sizeof(struct sockaddr_un);
	} else {
		addr_text((const struct sockaddr *)ss, host);
		if (ss->ss_family == AF_INET6)
			sl = sizeof(struct sockaddr_in6);
	}
	snprintf(c->cur_mta, sizeof(c->cur_mta), "%s", host);
	c->state = CLIENT_CONNECT;
	int err = 0;
	evutil_socket_t fd = ss->ss_family == AF_UNIX ? -1 : client_source_socket(c, ss->ss_family, &err);
	if (err != 0) {
		char why[200];
		snprintf(why, sizeof(why), "cannot use queue.source_address: %s", strerror(err));
		client_abort(c, why);
		return;
	}
	c->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, client_readcb, client_writecb, client_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, BODY_CHUNK / 2, 0);
	bufferevent_set_timeouts(c->bev, &(struct timeval){ .tv_sec = c->job.connect_timeout },
				 &(struct timeval){ .tv_sec = c->job.connect_timeout });
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)ss, (int)sl) < 0) {
		client_abort(c, "connect failed");
		return;
	}
	/* Our writes are whole buffers already; without this the final
	 * ".\r\n" of a large body can wait for the peer's delayed ACK (40 ms). */
	if (ss->ss_family != AF_UNIX)
		setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
}

void smtp_client_start(struct event_base *base, const struct smtp_client_job *job,
		       smtp_client_done_cb done, void *arg)
{
	struct client *c = xcalloc(1, sizeof(*c));
	c->job = *job;
	c->done = done;
	c->arg = arg;
	c->base = base;
	c->replies = xcalloc(job->n_rcpts, sizeof(*c->replies));
	c->accepted = xcalloc(job->n_rcpts, sizeof(*c->accepted));
	c->state = CLIENT_CONNECT;
	if (job->auth) {  /* ours for the whole job: a reload may free the caller's */
		c->auth = *job->auth;
		c->has_auth = true;
		c->job.auth = NULL;
	}
	struct smtp_client_pool *p = job->pool;
	TAILQ_INSERT_TAIL(&p->clients, c, pool_link);
	if (p->stopped) {
		client_cut(c, "the queue is stopping");
		return;
	}

	if (job->n_addrs > 0) {
		c->addrs = xcalloc(job->n_addrs, sizeof(*c->addrs));
		memcpy(c->addrs, job->addrs, job->n_addrs * sizeof(*c->addrs));
		c->n_addrs = job->n_addrs;
	} else {
		/* A numeric next hop only (TOP-4: no DNS). Names are resolved
		 * by the caller with c-ares (queue/deliver.c): a blocking
		 * resolver must never run on the queue's event loop. */
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST },
				*ai = NULL;
		int rc = getaddrinfo(job->host, job->port, &hints, &ai);
		if (rc != 0) {
			fail_remaining(c, 451, "451 4.4.3 %s: host lookup failed: %s", job->host, gai_strerror(rc));
			client_finish(c);
			return;
		}
		for (struct addrinfo *a = ai; a; a = a->ai_next) {
			if (a->ai_addrlen > sizeof(struct sockaddr_storage) || c->n_addrs >= 16)
				continue;
			c->addrs = xreallocarray(c->addrs, c->n_addrs + 1, sizeof(*c->addrs));
			memset(&c->addrs[c->n_addrs], 0, sizeof(*c->addrs));
			memcpy(&c->addrs[c->n_addrs++], a->ai_addr, a->ai_addrlen);
		}
		freeaddrinfo(ai);
		if (c->n_addrs == 0) {
			fail_remaining(c, 451, "451 4.4.3 %s: no usable address", job->host);
			client_finish(c);
			return;
		}
	}
	c->messages = 1;
	if (!job->pool_key) {
		client_connect(c);
		return;
	}
	struct dest *d = dest_get(p, job->pool_key);
	struct idle_conn *ic;
	TAILQ_FOREACH(ic, &p->idle, link)
		if (strcmp(ic->key, job->pool_key) == 0)
			break;
	if (ic) {
		TAILQ_REMOVE(&p->idle, ic, link);
		event_free(ic->timer);
		c->dest = d;
		client_adopt(c, ic);
		free(ic);
		return;
	}
	if (d->open >= p->per_destination) {
		log_event(LOG_DEBUG, "client_wait", "nexthop", job->pool_key, "open", log_u64(d->open), NULL);
		TAILQ_INSERT_TAIL(&d->waiting, c, wait_link);
		c->waiting_for = d;
		return;
	}
	d->open++;
	c->dest = d;
	client_connect(c);
}
