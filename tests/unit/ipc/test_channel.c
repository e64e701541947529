/* The channel's HELLO (issue 10, msg.h): each side sends HELLO with
 * IPC_VERSION first; a peer that skips it, sends another version or says
 * HELLO twice is cut off before anything reaches the message handler. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc/channel.h"
#include "util/fdpass.h"

struct seen {
	int msgs;
	int closes;
	char why[128];
};

static void on_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct seen *s = arg;
	s->msgs++;
	if (fd >= 0)
		close(fd);
}

static void on_close(struct channel *ch, const char *why, void *arg)
{
	struct seen *s = arg;
	s->closes++;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static struct ipc_msg out;

static void send_raw(int sock, uint16_t type, uint32_t version)
{
	ipc_msg_init(&out, type, 0);
	if (type == IPC_HELLO)
		ipc_put_u32(&out, version);
	else
		ipc_put_str(&out, "x");
	cr_assert_eq(fdpass_send(sock, out.data, out.len, -1), (ssize_t)out.len);
}

/* Run the channel's loop over what the peer sent, then close the peer so
 * that a channel still open sees the end (and the loop has no more to do). */
static void run(struct event_base *base, int peer)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
	close(peer);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

struct said {
	uint16_t type;
	uint32_t version;  /* of a HELLO */
};

/* The peer sends what[0..n-1], then goes away. */
static struct seen talk(const struct said *what, size_t n)
{
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	struct event_base *base = event_base_new();
	struct seen s = { 0 };
	channel_new(base, sp[0], on_msg, on_close, &s);
	for (size_t i = 0; i < n; i++)
		send_raw(sp[1], what[i].type, what[i].version);
	run(base, sp[1]);
	event_base_free(base);
	return s;
}

#define TALK(...) talk((const struct said[]){ __VA_ARGS__ }, \
		       sizeof((const struct said[]){ __VA_ARGS__ }) / sizeof(struct said))

Test(ipc_channel, the_first_message_sent_is_hello_with_our_version)
{
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	struct event_base *base = event_base_new();
	struct seen s = { 0 };
	struct channel *ch = channel_new(base, sp[0], on_msg, on_close, &s);
	unsigned char buf[IPC_MSG_MAX];
	int fd;
	ssize_t n = fdpass_recv(sp[1], buf, sizeof(buf), &fd);
	static struct ipc_msg in;
	cr_assert(n > 0 && ipc_msg_decode(&in, buf, (size_t)n));
	cr_assert_eq(in.type, IPC_HELLO);
	cr_assert_eq(ipc_get_u32(&in), IPC_VERSION);
	cr_assert(ipc_get_end(&in));
	channel_free(ch);
	close(sp[1]);
	event_base_free(base);
}

Test(ipc_channel, a_peer_with_our_version_gets_its_messages_through)
{
	struct seen s = TALK({ IPC_HELLO, IPC_VERSION }, { IPC_TXN_RCPT, 0 });
	cr_assert_eq(s.msgs, 1);
	cr_assert_str_neq(s.why, "protocol error: HELLO");  /* closed only by the peer's going */
}

Test(ipc_channel, a_message_before_hello_closes_the_channel)
{
	struct seen s = TALK({ IPC_TXN_RCPT, 0 }, { IPC_HELLO, IPC_VERSION });
	cr_assert_eq(s.msgs, 0);
	cr_assert_eq(s.closes, 1);
	cr_assert_str_eq(s.why, "protocol error: HELLO");
}

Test(ipc_channel, a_hello_with_another_version_closes_the_channel)
{
	struct seen s = TALK({ IPC_HELLO, IPC_VERSION + 1 }, { IPC_TXN_RCPT, 0 });
	cr_assert_eq(s.msgs, 0);
	cr_assert_str_eq(s.why, "protocol error: HELLO");
}

Test(ipc_channel, a_second_hello_closes_the_channel)
{
	struct seen s = TALK({ IPC_HELLO, IPC_VERSION }, { IPC_HELLO, IPC_VERSION }, { IPC_TXN_RCPT, 0 });
	cr_assert_eq(s.msgs, 0);
	cr_assert_str_eq(s.why, "protocol error: HELLO");
}
