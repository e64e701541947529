/*
 * A typed message channel over one end of a SOCK_SEQPACKET socketpair,
 * driven by libevent. Sends are queued and flushed when the socket is
 * writable, so a slow peer never blocks the event loop. A received message
 * that does not decode (unknown type, reserved bits, oversized, more than
 * one descriptor) closes the channel: the peer is broken or hostile.
 * channel_new() sends HELLO with IPC_VERSION at once; the peer's HELLO must
 * be its first message (checked here, never passed to on_msg), else the
 * channel closes (msg.h).
 */
#ifndef MW_IPC_CHANNEL_H
#define MW_IPC_CHANNEL_H

#include "ipc/msg.h"

struct event_base;
struct channel;

/* Called for every well-formed message. fd is a passed descriptor (owned by
 * the callee from then on) or -1. */
typedef void (*channel_msg_cb)(struct channel *ch, struct ipc_msg *m, int fd, void *arg);
/* Called once when the channel closes (peer gone or protocol error); the
 * channel is freed right after the callback returns. */
typedef void (*channel_close_cb)(struct channel *ch, const char *why, void *arg);

struct channel *channel_new(struct event_base *base, int sock, channel_msg_cb on_msg,
			    channel_close_cb on_close, void *arg);
/* Queue a message (and optionally a descriptor, which is dup'ed: the caller
 * keeps its own). A message marked bad is a programming error: fatal. */
void channel_send(struct channel *ch, const struct ipc_msg *m, int fd);
/* Close the socket and free, without calling on_close. */
void channel_free(struct channel *ch);

#endif
