/*
 * The queue's control socket: a unix stream socket
 * state_dir/spool/control.sock, mode 0660, created by the queue process
 * (as the queue user). The spool directory is the queue user's, mode
 * 0700, so only root and the queue user reach it; on top of that only
 * peers with uid 0 or the queue's own uid are served (SO_PEERCRED).
 *
 * Protocol: the client sends one line, "list", "list --json", "show ID",
 * "flush", "flush ID", "hold ID", "release ID" or "delete ID", or
 * "quarantine ..." (quarantine/keeper.h, with the peer's uid), "status" (the
 * level, then queue/status_report.h's lines) or
 * "level ..." (SCAN-11, queue/emergency.h, with the peer's uid), or "tlsrpt show|send ..."
 * (TLS-8, queue/tlsrpt.h); the queue
 * answers with text, the first line "ok" or "error", and closes. Every
 * command is logged (event=control). At most 16 clients are served at
 * once (a flood drops the oldest that has not sent its line yet, logged
 * once as event=control_busy), so connections never take the
 * descriptors the spool needs. Runs in the queue process.
 */
#ifndef MW_QUEUE_CONTROL_H
#define MW_QUEUE_CONTROL_H

struct config;
struct content_client;
struct emergency;
struct event_base;
struct keeper;
struct scheduler;

#define CONTROL_SOCKET "spool/control.sock"  /* relative to state_dir */
#define CONTROL_LINE_MAX 2048  /* a release to many recipients is one line */

struct control;

/* Listen on CONTROL_SOCKET (the queue runs in state_dir). config points
 * at the queue's current configuration (it changes on reload). Returns
 * the listener, or NULL. */
struct control *control_start(struct event_base *base, struct scheduler *sch, struct keeper *quarantine,
			      struct emergency *levels, const struct config *const *config);
/* status also reports the scanner's health (issue 15). */
void control_use_scanner(struct control *ctl, const struct content_client *scanner);
/* At exit: stop listening and free (a command in progress is cut off). */
void control_stop(struct control *ctl);

#endif
