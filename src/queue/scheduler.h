/*
 * The in-memory view of the queue: every QUEUED message (spool.h) with its
 * next delivery time. Starts deliveries while the concurrency limit
 * allows, applies the results (spool_mark per recipient, spool_remove when
 * none is pending) and computes the next try: retry_min, doubled per
 * attempt, at most retry_max. Runs in the queue process.
 */
#ifndef MW_QUEUE_SCHEDULER_H
#define MW_QUEUE_SCHEDULER_H

#include <stdbool.h>
#include <sys/queue.h>
#include <time.h>

#include "queue/envelope.h"

struct config;
struct event_base;
struct spool;

struct qentry {
	TAILQ_ENTRY(qentry) link;
	struct envelope env;
	int fd;                 /* open spool file (read + status marks) */
	time_t next_try;
	unsigned attempts;
	bool in_flight;
	unsigned jobs_left;     /* delivery jobs (one per next hop) still running */
	bool any_deferred;      /* some recipient got a temporary failure this round */
	bool round_over;        /* all jobs done; the next scheduler run settles it */
};

struct scheduler;

struct scheduler *scheduler_new(struct event_base *base, const struct config *c, struct spool *s);
/* Take over a committed or recovered message (env is moved, fd owned). */
void scheduler_add(struct scheduler *sch, struct envelope *env, int fd);
/* Look at the queue now (after a change). */
void scheduler_kick(struct scheduler *sch);

/* For deliver.c: one recipient's outcome, and the end of one job. */
void scheduler_rcpt_result(struct scheduler *sch, struct qentry *q, size_t rcpt, int code,
			   const char *reply, const char *nexthop);
/* The same, with the TLS used for it ("TLSv1.3/cipher" or "none") logged as tls=. */
void scheduler_rcpt_result_tls(struct scheduler *sch, struct qentry *q, size_t rcpt, int code,
			       const char *reply, const char *nexthop, const char *tls);
void scheduler_job_done(struct scheduler *sch, struct qentry *q);

#endif
