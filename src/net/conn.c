#include "net/conn.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "util/alloc.h"

struct conn {
	struct bufferevent *bev;
	struct event *resume_ev;   /* delivers buffered input after conn_resume() */
	struct conn_handlers h;
	void *arg;
	bool paused;
	bool discarding;           /* skipping the rest of an overlong line */
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
	if (c->h.on_drained)
		c->h.on_drained(c->arg);
}

static void conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT)
		c->h.on_timeout(c->arg);
	else if (what & BEV_EVENT_EOF)
		c->h.on_closed(c->arg, "peer closed");
	else if (what & BEV_EVENT_ERROR)
		c->h.on_closed(c->arg, "I/O error");
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
	bufferevent_free(c->bev);
	free(c);
}

void conn_write(struct conn *c, const void *p, size_t len)
{
	bufferevent_write(c->bev, p, len);
}

size_t conn_output_pending(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

enum conn_line conn_read_line(struct conn *c, char *buf, size_t cap, size_t *len)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	for (;;) {
		struct evbuffer_ptr lf = evbuffer_search(in, "\n", 1, NULL);
		if (c->discarding) {
			if (lf.pos < 0) {
				evbuffer_drain(in, evbuffer_get_length(in));
				return CONN_LINE_NONE;
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
