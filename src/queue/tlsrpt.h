/*
 * TLS-RPT (RFC 8460, TLS-8) in the queue process: counts the TLS
 * sessions of deliveries under an MTA-STS policy or DANE TLSA records
 * per policy domain and UTC day (state/tlsrpt_store.h), and once a day
 * sends each domain that had sessions its report (queue/tlsrpt_report.h)
 * to the mailto: addresses of its "_smtp._tls" TXT record, as a message
 * committed to the spool and delivered like any other.
 *
 * Everything runs on the queue's event loop. The counts of deliveries are
 * kept in memory and written in one transaction a few seconds later (and
 * before a report or "show" reads them), so a delivery never waits for
 * the disk. The TXT lookups go through c-ares (dns/dns.h).
 *
 * The daily run starts a few minutes after 00:00 UTC for the day before
 * (and a minute after the queue starts, for a day missed while it was
 * down); the control socket's "tlsrpt send [--day YYYY-MM-DD]" starts it
 * at once. Reports go by mail only: https: report URIs are ignored (and
 * logged).
 */
#ifndef MW_QUEUE_TLSRPT_H
#define MW_QUEUE_TLSRPT_H

#include <stdio.h>
#include <time.h>

struct config;
struct event_base;
struct scheduler;
struct spool;
struct tlsrpt;
struct tlsrpt_session;

/* The store goes to state_dir/tlsrpt/sessions.db (opened when first
 * needed, only while outbound_tls.tlsrpt is enabled). */
struct tlsrpt *tlsrpt_new(struct event_base *base, struct scheduler *sch, struct spool *spool,
			  const char *state_dir);
/* At exit, after the resolver is freed (its cancelled lookups end here
 * first): writes what is counted and frees. NULL is allowed. */
void tlsrpt_free(struct tlsrpt *t);

/* One session, if c enables TLS-RPT; s is cleared (its strings taken or freed). */
void tlsrpt_count(struct tlsrpt *t, const struct config *c, struct tlsrpt_session *s);

/* The control socket's "tlsrpt show [--day YYYY-MM-DD] [DOMAIN]" and
 * "tlsrpt send [--day YYYY-MM-DD]" (args: what follows "tlsrpt "). The
 * answer goes to out; 0, or -1 on an error. */
int tlsrpt_command(struct tlsrpt *t, const struct config *c, char *args, FILE *out);

/* Seconds from now until the next daily run (00:10 UTC), 1 to a day. Pure. */
long tlsrpt_until_daily(time_t now);

#endif
