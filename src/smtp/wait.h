/*
 * The one way an SMTP session waits (issue 10): for a scanner stage, the
 * TLS handshake, the queue (its pipe, the pipe draining, the verdict) or a
 * deliberate delay (greet_delay, the AUTH failure delay). The session is
 * then in SMTP_STATE_WAIT with one typed pending operation {kind,
 * continuation, deadline} (session.h); it enters and leaves that state
 * only here. Runs in smtpd.
 *
 * While waiting, input is paused and the client's read timeout does not
 * run: the client is waiting for our reply (RFC 5321 4.5.3.2), so the
 * deadline bounds the wait instead, and when it passes the continuation
 * gets SMTP_RESULT_EXPIRED and gives the reply (for the delays that is
 * simply the end of the delay). A result for a kind the session is not
 * waiting for (late, or after the session gave up) is ignored.
 */
#ifndef MW_SMTP_WAIT_H
#define MW_SMTP_WAIT_H

#include <stdbool.h>

#include "smtp/session.h"

/* Wait for kind: pause input, arm the deadline (seconds), remember the
 * state to return to. Start the operation only after this call: its
 * result may come before the operation's start returns. Never while
 * already waiting. */
void smtp_session_wait(struct smtp_session *s, enum smtp_pending_kind kind, const struct smtp_cont *cont,
		       unsigned deadline);

/* A result for kind: if the session waits for it, return to the state it
 * waited in, resume input and run the continuation (which may close the
 * session, or free it: the caller must not touch s afterwards); true.
 * Otherwise log it at debug level and return false: the caller still owns
 * whatever the result carries (r->fd). */
bool smtp_session_resume(struct smtp_session *s, enum smtp_pending_kind kind, const struct smtp_result *r);

/* The kind the session waits for; SMTP_PENDING_NONE when not waiting. */
enum smtp_pending_kind smtp_session_waiting(const struct smtp_session *s);

/* The session is closing while it waits: forget the pending operation
 * (its result, should it still come, is ignored). */
void smtp_session_wait_cancel(struct smtp_session *s);

const char *smtp_pending_kind_name(enum smtp_pending_kind kind);

#endif
