/*
 * Where the SMTP session meets the scanner (scan/scan.h): the connect
 * stage before the greeting, the HELO/MAIL/RCPT stages before their reply,
 * and the symbols handed to the queue at the end of the message (which
 * makes the verdict). Runs in smtpd.
 * Without a "scan:" section every function lets the session go on at once.
 */
#ifndef MW_SMTP_SCAN_HOOK_H
#define MW_SMTP_SCAN_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/scan.h"
#include "smtp/session.h"

struct ipc_msg;
struct ipc_eom;

/* New session: run the connect stage, then greet (220) or refuse and close. */
void smtp_scan_connect(struct smtp_session *s);
void smtp_scan_session_end(struct smtp_session *s);

/* Run a stage; then(s, NULL) to go on, then(s, reply) when refused. The
 * session waits (SMTP_PENDING_SCAN, smtp/wait.h) meanwhile, for at most
 * the command timeout. The HELO stage takes the name from s->helo, the
 * MAIL stage the sender from the transaction (and starts a new message
 * for the scanner). */
void smtp_scan_stage(struct smtp_session *s, enum scan_stage stage, smtp_scan_then then);
/* The RCPT stage for one recipient; then() gets it back. */
void smtp_scan_rcpt(struct smtp_session *s, const char *rcpt, smtp_scan_rcpt_then then);

/* End of the message: the SMTP-time symbols and facts (iprev, SPF) for
 * END-OF-MESSAGE. The verdict is the queue's (SEC-1). */
void smtp_scan_eom(struct smtp_session *s, struct ipc_eom *e);

/* The client's name for our Received field, as Postfix writes it: the
 * PTR name once forward-confirmed (iprev pass, the fcrdns check), "unknown"
 * when the checks looked it up and it did not hold (or did not answer),
 * NULL when nothing was looked up (no scan section, or neither the rdns
 * nor the fcrdns check ran). A name with other bytes than a host name
 * may hold counts as "unknown": it goes into a header field. */
const char *smtp_scan_client_name(struct smtp_session *s);

#endif
