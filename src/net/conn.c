#include "net/conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util/alloc.h"

struct conn {
	struct bufferevent *bev;
	struct event *resume_ev;   /* delivers buffered input after conn_resume() */
	struct conn_handlers h;
	void *arg;
	struct event *drained_ev;  /* TLS: the socket's output drained (see conn_start_tls) */
	struct evbuffer *staged;   /* TLS: output of this loop iteration, one write (see conn_write) */
	struct event *flush_ev;
	struct event *timer_ev;    /* conn_after() */
	void (*timer_fn)(void *arg);
	bool paused;
	bool discarding;           /* skipping the rest of an overlong line */
	size_t discarded;          /* bytes of it skipped so far */
	bool tls;                  /* bev is the TLS filter over the socket */
	bool tls_ready;
	bool tls_notified;         /* close_notify sent (conn_finish) */
	char why[256];
};

static void conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (!c->paused)
		c->h.on_input(c->arg);
}

static void conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	/* Over TLS this only means "encrypted": the records may still wait in
	 * the socket's buffer; conn_drainedcb reports when they are written. */
	if (conn_output_pending(c) > 0)
		return;
	if (c->h.on_drained)
		c->h.on_drained(c->arg);
}

static void conn_drainedcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (conn_output_pending(c) == 0 && c->h.on_drained)
		c->h.on_drained(c->arg);
}

/* Runs inside libevent's write to the socket: only schedule the report,
 * never call session code (which may free the connection) from here. */
static void conn_under_outputcb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	if (info->n_deleted > 0 && evbuffer_get_length(buf) == 0)
		event_active(c->drained_ev, 0, 0);
}

/* A failed handshake leaves its alert (no_application_protocol, RFC 7301
 * 3.2) in the socket's output; the session frees the connection at once,
 * so write it now, without blocking: the client learns why. */
static void conn_flush_alert(struct conn *c)
{
	struct bufferevent *under = bufferevent_get_underlying(c->bev);
	struct evbuffer_iovec v;
	/* The socket bufferevent owns its output buffer (its start is frozen
	 * for everyone else): the bytes are looked at in place and sent, if
	 * they are no more than an alert record, in one piece. */
	struct evbuffer *out = under ? bufferevent_get_output(under) : NULL;
	size_t len = out ? evbuffer_get_length(out) : 0;
	if (len > 0 && len <= 64 && evbuffer_peek(out, (ev_ssize_t)len, NULL, &v, 1) == 1 && v.iov_len == len)
		(void)!send(bufferevent_getfd(under), v.iov_base, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->tls && !c->tls_ready) {
			c->tls_ready = true;
			if (c->h.on_tls_ready)
				c->h.on_tls_ready(c->arg);
		}
	} else if (what & BEV_EVENT_TIMEOUT) {
		c->h.on_timeout(c->arg);
	} else if (what & BEV_EVENT_EOF) {
		/* A TLS close_notify ends the session here too: whatever the peer
		 * sends in clear after it is never read. */
		c->h.on_closed(c->arg, c->tls ? "peer closed (TLS)" : "peer closed");
	} else if (what & BEV_EVENT_ERROR) {
		unsigned long e = c->tls ? bufferevent_get_openssl_error(bev) : 0;
		if (e) {
			char text[200];
			ERR_error_string_n(e, text, sizeof(text));
			snprintf(c->why, sizeof(c->why), "TLS error: %s", text);
			while (bufferevent_get_openssl_error(bev))
				;
		} else {
			snprintf(c->why, sizeof(c->why), c->tls && !c->tls_ready ? "TLS handshake failed" : "I/O error");
		}
		if (c->tls && !c->tls_ready)
			conn_flush_alert(c);
		c->h.on_closed(c->arg, c->why);
	}
}

static void conn_flushcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (evbuffer_get_length(c->staged) > 0 && bufferevent_write_buffer(c->bev, c->staged) != 0)
		evbuffer_drain(c->staged, evbuffer_get_length(c->staged));  /* the connection is failing */
}

static void conn_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->timer_fn)
		c->timer_fn(c->arg);
}

static void conn_resumecb(evutil_socket_t fd, short what, void *arg)
{
	/* Always: the session may have work without new bytes (a BDAT 0 LAST). */
	struct conn *c = arg;
	if (!c->paused)
		c->h.on_input(c->arg);
}

struct conn *conn_new(struct event_base *base, int fd, const struct conn_handlers *h, void *arg)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		free(c);
		return NULL;
	}
	/* Replies are written whole; Nagle would only hold a reply back
	 * behind a delayed ACK (fails harmlessly on a non-TCP socket). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->resume_ev = event_new(base, -1, 0, conn_resumecb, c);
	c->h = *h;
	c->arg = arg;
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_INPUT_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	event_free(c->resume_ev);
	if (c->tls) {
		struct bufferevent *under = bufferevent_get_underlying(c->bev);
		if (under)
			evbuffer_remove_cb(bufferevent_get_output(under), conn_under_outputcb, c);
	}
	if (c->drained_ev)
		event_free(c->drained_ev);
	if (c->flush_ev)
		event_free(c->flush_ev);
	if (c->staged)
		evbuffer_free(c->staged);
	if (c->timer_ev)
		event_free(c->timer_ev);
	bufferevent_free(c->bev);
	free(c);
}

void conn_write(struct conn *c, const void *p, size_t len)
{
	/* Over TLS every write would become a record of its own (the TLS
	 * layer encrypts as soon as data arrives): collect the replies of one
	 * round of input (an EHLO reply, a pipelined group) and hand them
	 * over together from the event loop. */
	if (c->tls) {
		if (evbuffer_get_length(c->staged) == 0)
			event_active(c->flush_ev, 0, 0);
		evbuffer_add(c->staged, p, len);
		return;
	}
	bufferevent_write(c->bev, p, len);
}

size_t conn_output_pending(const struct conn *c)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (c->tls) {
		n += evbuffer_get_length(c->staged);
		struct bufferevent *under = bufferevent_get_underlying(c->bev);
		if (under)
			n += evbuffer_get_length(bufferevent_get_output(under));
	}
	return n;
}

enum conn_line conn_read_line(struct conn *c, char *buf, size_t cap, size_t *len)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	for (;;) {
		struct evbuffer_ptr lf = evbuffer_search(in, "\n", 1, NULL);
		if (c->discarding) {
			if (lf.pos < 0) {
				c->discarded += evbuffer_get_length(in);
				evbuffer_drain(in, evbuffer_get_length(in));
				return c->discarded > CONN_DISCARD_MAX ? CONN_LINE_RUNAWAY : CONN_LINE_NONE;
			}
			evbuffer_drain(in, (size_t)lf.pos + 1);
			c->discarding = false;
			continue;
		}
		size_t avail = evbuffer_get_length(in);
		if (lf.pos < 0 || (size_t)lf.pos >= cap) {
			if (lf.pos < 0 && avail < cap)
				return CONN_LINE_NONE;
			/* Longer than allowed, whether or not its end has arrived. */
			c->discarding = true;
			c->discarded = 0;
			*len = 0;
			buf[0] = '\0';
			return CONN_LINE_TOO_LONG;
		}
		size_t n = (size_t)lf.pos;
		evbuffer_remove(in, buf, n);
		evbuffer_drain(in, 1);
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		buf[n] = '\0';
		*len = n;
		return CONN_LINE_OK;
	}
}

size_t conn_peek(struct conn *c, void *buf, size_t cap)
{
	ev_ssize_t n = evbuffer_copyout(bufferevent_get_input(c->bev), buf, cap);
	return n > 0 ? (size_t)n : 0;
}

void conn_consume(struct conn *c, size_t n)
{
	evbuffer_drain(bufferevent_get_input(c->bev), n);
}

size_t conn_input_pending(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_input(c->bev));
}

void conn_pause(struct conn *c)
{
	c->paused = true;
}

void conn_resume(struct conn *c)
{
	if (!c->paused)
		return;
	c->paused = false;
	event_active(c->resume_ev, 0, 0);
}

void conn_set_timeout(struct conn *c, unsigned seconds)
{
	struct timeval tv = { .tv_sec = seconds };
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	/* A timeout disables reading in libevent; make sure it is on again. */
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

bool conn_start_tls(struct conn *c, struct ssl_ctx_st *ctx)
{
	if (c->tls || !ctx)
		return false;
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return false;
	struct bufferevent *under = c->bev;
	/* CVE-2011-0411: nothing the client sent before the handshake counts. */
	evbuffer_drain(bufferevent_get_input(under), evbuffer_get_length(bufferevent_get_input(under)));
	c->discarding = false;
	bufferevent_set_timeouts(under, NULL, NULL);
	struct bufferevent *bev = bufferevent_openssl_filter_new(
		bufferevent_get_base(under), under, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		return false;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->drained_ev = event_new(bufferevent_get_base(under), -1, 0, conn_drainedcb, c);
	c->flush_ev = event_new(bufferevent_get_base(under), -1, 0, conn_flushcb, c);
	c->staged = evbuffer_new();
	evbuffer_add_cb(bufferevent_get_output(under), conn_under_outputcb, c);
	c->bev = bev;
	c->tls = true;
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_INPUT_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return true;
}

bool conn_is_tls(const struct conn *c)
{
	return c->tls && c->tls_ready;
}

void conn_tls_info(const struct conn *c, const char **version, const char **cipher, int *bits)
{
	/* OpenSSL directly: net/ sits below tls/ and only reads what the
	 * handshake settled. */
	SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;
	*version = ssl ? SSL_get_version(ssl) : "";
	*cipher = ssl ? SSL_get_cipher_name(ssl) : "";
	*bits = ssl ? SSL_get_cipher_bits(ssl, NULL) : 0;
}

void conn_after(struct conn *c, unsigned seconds, void (*fn)(void *arg))
{
	if (!c->timer_ev)
		c->timer_ev = evtimer_new(bufferevent_get_base(c->bev), conn_timercb, c);
	c->timer_fn = fn;
	evtimer_add(c->timer_ev, &(struct timeval){ .tv_sec = seconds });
}

bool conn_finish(struct conn *c)
{
	if (!c->tls || !c->tls_ready || c->tls_notified)
		return true;
	c->tls_notified = true;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	/* The close_notify goes into the socket's buffer; its draining calls
	 * on_drained again. */
	if (!ssl || SSL_shutdown(ssl) < 0 || conn_output_pending(c) == 0) {
		ERR_clear_error();
		return true;
	}
	return false;
}
