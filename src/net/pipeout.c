/*
 * See pipeout.h. Runs in smtpd, on its event loop.
 */
#include "net/pipeout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "util/alloc.h"

/* Below this much buffered data a write waits for more (fewer syscalls
 * for a message that arrives in small pieces). */
#define PIPEOUT_WRITE_AT (16u * 1024)

struct pipeout {
	int fd;
	struct evbuffer *buf;
	struct event *writable;
	bool failed;
	void (*drained)(void *arg, bool ok);
	void *arg;
};

static void flush(struct pipeout *p)
{
	while (!p->failed && evbuffer_get_length(p->buf) > 0) {
		int n = evbuffer_write(p->buf, p->fd);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		p->failed = true;  /* EPIPE: the queue closed its end */
	}
}

static void notify(struct pipeout *p)
{
	void (*cb)(void *, bool) = p->drained;
	if (!cb)
		return;
	if (!p->failed && evbuffer_get_length(p->buf) > 0) {
		event_add(p->writable, NULL);
		return;
	}
	p->drained = NULL;
	cb(p->arg, !p->failed);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct pipeout *p = arg;
	flush(p);
	notify(p);
}

struct pipeout *pipeout_new(struct event_base *base, int fd)
{
	struct pipeout *p = xcalloc(1, sizeof(*p));
	p->fd = fd;
	p->buf = evbuffer_new();
	p->writable = event_new(base, fd, EV_WRITE, on_writable, p);
	int fl = fcntl(fd, F_GETFL);
	if (!p->buf || !p->writable || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		pipeout_free(p);
		return NULL;
	}
	return p;
}

bool pipeout_write(struct pipeout *p, const void *data, size_t len)
{
	if (p->failed)
		return false;
	if (evbuffer_add(p->buf, data, len) < 0)
		p->failed = true;
	else if (evbuffer_get_length(p->buf) >= PIPEOUT_WRITE_AT)
		flush(p);
	return !p->failed;
}

size_t pipeout_pending(const struct pipeout *p)
{
	return evbuffer_get_length(p->buf);
}

bool pipeout_failed(const struct pipeout *p)
{
	return p->failed;
}

void pipeout_when_drained(struct pipeout *p, void (*cb)(void *arg, bool ok), void *arg)
{
	p->drained = cb;
	p->arg = arg;
	flush(p);
	notify(p);
}

void pipeout_free(struct pipeout *p)
{
	if (!p)
		return;
	if (p->writable)
		event_free(p->writable);
	if (p->buf)
		evbuffer_free(p->buf);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}
