#include "ipc/channel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "util/alloc.h"
#include "util/fdpass.h"
#include "util/log.h"

struct outgoing {
	STAILQ_ENTRY(outgoing) link;
	int fd;
	size_t len;
	unsigned char data[];
};

struct channel {
	int sock;
	struct event *rev, *wev;
	STAILQ_HEAD(, outgoing) queue;
	channel_msg_cb on_msg;
	channel_close_cb on_close;
	void *arg;
	bool in_callback;
	bool dead;          /* closed while a callback ran; freed when it returns */
	bool hello_seen;    /* the peer's HELLO arrived with our IPC_VERSION */
};

static void channel_close(struct channel *ch, const char *why)
{
	channel_close_cb cb = ch->on_close;
	void *arg = ch->arg;
	if (ch->in_callback) {
		if (!ch->dead) {
			ch->dead = true;
			event_del(ch->rev);
			event_del(ch->wev);
			if (cb)
				cb(ch, why, arg);
		}
		return;
	}
	if (cb)
		cb(ch, why, arg);
	channel_free(ch);
}

/* The first message must be HELLO with our version, and only the first
 * (msg.h): false means the peer is another build or broken. */
static bool hello_check(struct channel *ch, struct ipc_msg *m, int fd)
{
	if (ch->hello_seen)
		return m->type != IPC_HELLO;
	uint32_t version = m->type == IPC_HELLO ? ipc_get_u32(m) : 0;
	if (m->type != IPC_HELLO || fd >= 0 || !ipc_get_end(m) || version != IPC_VERSION) {
		log_event(LOG_ERR, "ipc_error", "msg", "no HELLO with our protocol version, closing channel",
			  "type", ipc_type_name(m->type), "version", log_u64(version), "expected",
			  log_u64(IPC_VERSION), NULL);
		return false;
	}
	ch->hello_seen = true;
	return true;
}

static void channel_readable(evutil_socket_t sock, short what, void *arg)
{
	struct channel *ch = arg;
	/* Static: 64 KiB per datagram is too much for the stack of every call,
	 * and each process is single-threaded. */
	static unsigned char buf[IPC_MSG_MAX];
	static struct ipc_msg m;
	for (int i = 0; i < 64; i++) {
		int fd;
		ssize_t n = fdpass_recv(sock, buf, sizeof(buf), &fd);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			channel_close(ch, n == 0 ? "peer closed" : strerror(errno));
			return;
		}
		if (!ipc_msg_decode(&m, buf, (size_t)n)) {
			if (fd >= 0)
				close(fd);
			log_event(LOG_ERR, "ipc_error", "msg", "malformed message, closing channel",
				  "type", log_u64(m.type), NULL);
			channel_close(ch, "malformed message");
			return;
		}
		bool first = !ch->hello_seen;
		if (!hello_check(ch, &m, fd)) {
			if (fd >= 0)
				close(fd);
			if (!first)
				log_event(LOG_ERR, "ipc_error", "msg", "second HELLO, closing channel", NULL);
			channel_close(ch, "protocol error: HELLO");
			return;
		}
		if (first)
			continue;  /* HELLO is the channel's own business */
		ch->in_callback = true;
		ch->on_msg(ch, &m, fd, ch->arg);
		ch->in_callback = false;
		if (ch->dead) {
			channel_free(ch);
			return;
		}
	}
}

static void discard_queue(struct channel *ch)
{
	struct outgoing *o;
	while ((o = STAILQ_FIRST(&ch->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&ch->queue, link);
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
}

static void channel_flush(struct channel *ch)
{
	struct outgoing *o;
	while ((o = STAILQ_FIRST(&ch->queue)) != NULL) {
		ssize_t n = fdpass_send(ch->sock, o->data, o->len, o->fd);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			event_add(ch->wev, NULL);
			return;
		}
		if (n < 0) {
			/* The peer is gone (EPIPE, ECONNRESET): drop what is queued;
			 * the read side sees the end and closes the channel, so
			 * callers of channel_send() never find it freed under them. */
			discard_queue(ch);
			return;
		}
		STAILQ_REMOVE_HEAD(&ch->queue, link);
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
}

static void channel_writable(evutil_socket_t sock, short what, void *arg)
{
	channel_flush(arg);
}

struct channel *channel_new(struct event_base *base, int sock, channel_msg_cb on_msg,
			    channel_close_cb on_close, void *arg)
{
	struct channel *ch = xcalloc(1, sizeof(*ch));
	ch->sock = sock;
	ch->on_msg = on_msg;
	ch->on_close = on_close;
	ch->arg = arg;
	STAILQ_INIT(&ch->queue);
	evutil_make_socket_nonblocking(sock);
	evutil_make_socket_closeonexec(sock);
	ch->rev = event_new(base, sock, EV_READ | EV_PERSIST, channel_readable, ch);
	ch->wev = event_new(base, sock, EV_WRITE, channel_writable, ch);
	event_add(ch->rev, NULL);
	struct ipc_msg *hello = xmalloc(sizeof(*hello));
	ipc_msg_init(hello, IPC_HELLO, 0);
	ipc_put_u32(hello, IPC_VERSION);
	channel_send(ch, hello, -1);
	free(hello);
	return ch;
}

void channel_send(struct channel *ch, const struct ipc_msg *m, int fd)
{
	if (m->bad) {
		log_event(LOG_ERR, "fatal", "msg", "IPC message overflow", "type",
			  ipc_type_name(m->type), NULL);
		abort();
	}
	if (ch->dead)
		return;
	struct outgoing *o = xmalloc(sizeof(*o) + m->len);
	o->fd = fd >= 0 ? dup(fd) : -1;
	o->len = m->len;
	memcpy(o->data, m->data, m->len);
	STAILQ_INSERT_TAIL(&ch->queue, o, link);
	if (STAILQ_FIRST(&ch->queue) == o)
		channel_flush(ch);
}

void channel_free(struct channel *ch)
{
	if (ch->in_callback) {
		ch->dead = true;
		ch->on_close = NULL;
		event_del(ch->rev);
		event_del(ch->wev);
		return;
	}
	discard_queue(ch);
	event_free(ch->rev);
	event_free(ch->wev);
	close(ch->sock);
	free(ch);
}
