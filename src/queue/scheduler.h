/*
 * The in-memory view of the queue: every QUEUED or HELD message (spool.h)
 * with its next delivery time. Starts deliveries while the concurrency
 * limit allows, applies the results and, after each round, settles the
 * message:
 *   - recipients that failed permanently (5xx, or still pending when the
 *     message is older than queue.lifetime) get one RFC 3464 bounce to the
 *     envelope sender; the bounce is committed to the spool before the
 *     recipients are marked failed, so a crash in between repeats the
 *     bounce rather than losing it. A bounce (null sender) is never
 *     bounced: it goes to queue.bounce_notify once, or is logged and
 *     dropped;
 *   - recipients that asked for NOTIFY=SUCCESS get a success DSN;
 *   - after queue.delay_warning, one "delayed" DSN (persisted in the
 *     spool file so it is sent once);
 *   - the next try: retry_schedule() after the attempt, never later than
 *     the end of the lifetime;
 *   - no recipient pending: the file is removed.
 * Runs in the queue process.
 */
#ifndef MW_QUEUE_SCHEDULER_H
#define MW_QUEUE_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <time.h>

#include "queue/delays.h"
#include "queue/envelope.h"

struct config;
struct dns;
struct dnssec;
struct mtasts_lookup;
struct event_base;
struct smarthost_auth;
struct smtp_client_pool;
struct spool;
struct tlsrpt;

/* What one recipient learned in the current and earlier rounds. */
struct qrcpt_state {
	char *last_reply;       /* last reply or reason (malloc'ed), NULL if none */
	char *last_mta;         /* the host that gave it */
	bool failing;           /* permanent failure, bounce not yet committed */
	bool notify_success;    /* delivered this round with NOTIFY=SUCCESS */
	bool relayed;           /* ... to a next hop that was not told about it */
};

/* Where an entry is in the scheduler's cycle (scheduler.c keeps one list
 * per place that has to be walked). */
enum qentry_place {
	QPLACE_NONE,      /* in no list: being added or freed */
	QPLACE_READY,     /* due: waits for a delivery slot (readyq.h) */
	QPLACE_WAITING,   /* next_try in the future */
	QPLACE_FLIGHT,    /* a delivery round runs */
	QPLACE_SETTLING,  /* the round is over; the next scheduler run settles it */
	QPLACE_HELD,      /* in hold/: never delivered until released */
};

struct qentry {
	TAILQ_ENTRY(qentry) link;      /* every entry, in arrival order */
	TAILQ_ENTRY(qentry) place_link;/* the list of its place, if it has one */
	enum qentry_place place;
	const char *dest_key;          /* its destination (readyq.h): a recipient's domain, in env */
	char hop_key[320];             /* ... and that domain's next hop (deliver_nexthop()) */
	struct rq_dest *ready_dest;    /* readyq.c's, while READY */
	struct rq_hop *flight_hop;     /* readyq.c's, while FLIGHT: the share it counts against */
	struct envelope env;
	struct qrcpt_state *rs; /* one per recipient */
	int fd;                 /* spool file (read + status marks) while a round runs, or kept
	                           from the commit for the first round; else -1 */
	unsigned long long size;/* of the message, without the envelope */
	/* Monotonic seconds (qclock.h), never the wall clock (item 10). */
	int64_t since;          /* entered the queue (from the persisted arrival) */
	int64_t next_try, last_try;
	unsigned attempts;
	bool held;              /* in hold/ (place HELD, or busy when it was held) */
	unsigned jobs_left;     /* delivery jobs (one per next hop) still running */
	bool any_deferred;      /* some recipient got a temporary failure this round */
	bool marks_unsynced;    /* spool_mark() ran this round; spool_sync_marks() has not */
	char last_error[300];
};

struct scheduler;

struct scheduler *scheduler_new(struct event_base *base, const struct config *c, struct spool *s);
/* A reloaded configuration for the next delivery rounds (routes, retry
 * times, concurrency); rounds in flight keep the snapshot they started
 * with (each job holds it). The resolver and the connection pool, with
 * their settings, stay as they are: the pool's open connections survive. */
void scheduler_set_config(struct scheduler *sch, const struct config *c);
/* At the end of the queue process, after its loop: rounds in flight are
 * cut short (their SMTP sessions closed without waiting for the next hop,
 * their DNS queries cancelled; their recipients stay pending, so the
 * messages stay queued and are tried again after the restart); then
 * entries, resolver, connection pool and timers are freed. */
void scheduler_free(struct scheduler *sch);
/* Take over a committed or recovered message (env is moved, fd owned). */
void scheduler_add(struct scheduler *sch, struct envelope *env, int fd, bool held);
/* Wall-clock arrival of the first message taken over (normally the
 * oldest), 0 when the queue is empty: for the metrics. */
uint64_t scheduler_oldest_arrival(const struct scheduler *sch);
/* Look at the queue now (after a change). */
void scheduler_kick(struct scheduler *sch);

/* The messages in the queue now (waiting, deferred, held or being
 * delivered): the queue depth an emergency trigger looks at (SCAN-11). */
size_t scheduler_depth(const struct scheduler *sch);

/* The delay before try number attempts+1: retry_min doubled per attempt,
 * at most retry_max. Pure. */
unsigned retry_schedule(unsigned retry_min, unsigned retry_max, unsigned attempts);

/* How a 2xx came about, for NOTIFY=SUCCESS (RFC 3461 6.2.3): final
 * delivery (maildir, LMTP), relayed to a next hop without DSN (we report
 * "relayed"), or passed on to one with DSN (it reports, we do not). */
enum deliver_kind { DELIVER_FINAL, DELIVER_RELAYED, DELIVER_DSN_PASSED };

/* How an SMTP/LMTP delivery attempt was protected, for its log line
 * (TLS-8): which policy chose the TLS level, the session's TLS ("none"
 * in clear; NULL: no session was reached) and whether the peer's
 * certificate was valid for the host name. */
struct deliver_tls {
	const char *policy;   /* "mta-sts", "config", "may" or "none" */
	const char *session;
	bool verified;
};

/* For deliver.c: one recipient's outcome (mta: the address that answered,
 * or NULL; tls: NULL for a maildir; times: when the attempt started and
 * was ready to send, for the delay figures of its log line, queue/delays.h),
 * whether a recipient already failed this round, and
 * the end of one job. */
void scheduler_rcpt_result(struct scheduler *sch, struct qentry *q, size_t rcpt, int code,
			   const char *reply, const char *nexthop, const char *mta, enum deliver_kind kind,
			   const struct deliver_tls *tls, const struct delivery_times *times);
bool scheduler_rcpt_settled(const struct qentry *q, size_t rcpt);
struct dns *scheduler_dns(struct scheduler *sch);
struct mtasts_lookup *scheduler_mtasts(struct scheduler *sch);
/* TLS-8: the TLS-RPT counter (queue/tlsrpt.h) and the current configuration. */
struct tlsrpt *scheduler_tlsrpt(struct scheduler *sch);
const struct config *scheduler_config(const struct scheduler *sch);
/* TLS-8: the DNSSEC validator for DANE, made from c's outbound_tls.dane on
 * first use; NULL if it cannot start. */
struct dnssec *scheduler_dnssec(struct scheduler *sch, const struct config *c);
struct smtp_client_pool *scheduler_pool(struct scheduler *sch);
/* Issue 15: the smart host's credentials as last read (queue/smarthost_auth.h). */
const struct smarthost_auth *scheduler_smarthost_auth(const struct scheduler *sch);
void scheduler_job_done(struct scheduler *sch, struct qentry *q);

/* Queue administration, for the control socket. Each writes a
 * human-readable answer (or JSON for list) to out and returns 0, or
 * writes an error and returns -1. id may be NULL for flush (all). */
int scheduler_admin_list(struct scheduler *sch, bool json, FILE *out);
int scheduler_admin_show(struct scheduler *sch, const char *id, FILE *out);
int scheduler_admin_flush(struct scheduler *sch, const char *id, FILE *out);
int scheduler_admin_hold(struct scheduler *sch, const char *id, FILE *out);
int scheduler_admin_release(struct scheduler *sch, const char *id, FILE *out);
int scheduler_admin_delete(struct scheduler *sch, const char *id, FILE *out);

#endif
