/*
 * partners_only in smtpd (issue 13, SCAN-11): under a level with
 * partners_only, a recipient is taken only when sender and recipient are
 * known partners (state/partners.h) or on the static allow list; else
 * RCPT gets 450 4.7.1 (temporary: real senders retry after the
 * emergency).
 *
 * Where the answer comes from, and why: the queue owns the store for
 * writing (it knows delivery results and verdicts) and `mailwarden
 * partners` changes it too. Each smtpd opens the file read-only before
 * its chroot (partners_gate_prepare) and answers RCPT from an in-memory
 * cache (state/partner_cache.h): no I/O on the event loop. One worker
 * thread (util/offload.h) looks at the store every few seconds: when
 * pairs were removed (the store's generation moved) it builds a whole new
 * cache, handed to the loop, which swaps it in; otherwise it reads the
 * pairs seen since its last look, which the loop adds. So learned pairs
 * and the command's changes reach every smtpd within seconds, without a
 * restart. Not pushed over IPC from the queue: a million pairs would be
 * 16 MB through every smtpd's channel at each start, on the channel that
 * carries the mail, and the command must work with the queue stopped.
 */
#ifndef MW_SMTP_PARTNERS_GATE_H
#define MW_SMTP_PARTNERS_GATE_H

#include <stdbool.h>

#include "config/config.h"

struct event_base;

/* Before the privilege drop and chroot: open the store when c or any of
 * its levels has partners_only. A missing store is logged, not fatal:
 * then only the allow list counts as partners (strangers still get a
 * temporary reply). Always true. */
bool partners_gate_prepare(const struct config *c);

/* After the drop, on smtpd's loop: the first load and the periodic
 * looks. Nothing when prepare opened nothing and c has no allow list. */
void partners_gate_start(struct event_base *base, const struct config *c);
/* At exit: the worker finishes, everything is freed. */
void partners_gate_stop(void);

/* May this recipient be taken under pol? outbound: the client is
 * trusted or authenticated (the sender is ours); rcpt_local: the
 * recipient's domain is local (mail among our own users is never cut
 * off). sender is the MAIL FROM address ("" for the null sender). */
bool partners_gate_allows(enum partners_only pol, bool outbound, bool rcpt_local, const char *sender,
			  const char *rcpt);

#endif
