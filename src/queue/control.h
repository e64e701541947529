/*
 * The queue's control socket: a unix stream socket "control.sock"
 * in the state directory, mode 0660, created by the queue process (as the
 * queue user). Only peers with uid 0 or the queue's own uid are served
 * (SO_PEERCRED), whatever the file mode says.
 *
 * Protocol: the client sends one line, "list", "list --json", "show ID",
 * "flush", "flush ID", "hold ID", "release ID" or "delete ID"; the queue
 * answers with text, the first line "ok" or "error", and closes. Every
 * command is logged (event=control). Runs in the queue process.
 */
#ifndef MW_QUEUE_CONTROL_H
#define MW_QUEUE_CONTROL_H

struct event_base;
struct scheduler;

#define CONTROL_SOCKET "control.sock"
#define CONTROL_LINE_MAX 256

/* Listen on CONTROL_SOCKET in the current directory. Returns 0 or -1. */
int control_start(struct event_base *base, struct scheduler *sch);

#endif
