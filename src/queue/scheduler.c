#include "queue/scheduler.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "queue/deliver.h"
#include "queue/spool.h"
#include "util/alloc.h"
#include "util/log.h"

struct scheduler {
	struct event_base *base;
	const struct config *config;
	struct spool *spool;
	TAILQ_HEAD(, qentry) entries;
	unsigned active;
	struct event *timer;
	struct event *kick_ev;
};

static void scheduler_run(struct scheduler *sch);

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	scheduler_run(arg);
}

struct scheduler *scheduler_new(struct event_base *base, const struct config *c, struct spool *s)
{
	struct scheduler *sch = xcalloc(1, sizeof(*sch));
	sch->base = base;
	sch->config = c;
	sch->spool = s;
	TAILQ_INIT(&sch->entries);
	sch->timer = evtimer_new(base, on_timer, sch);
	sch->kick_ev = event_new(base, -1, 0, on_timer, sch);
	return sch;
}

void scheduler_kick(struct scheduler *sch)
{
	/* Deferred to the loop: callers may be deep inside a delivery callback. */
	event_active(sch->kick_ev, 0, 0);
}

void scheduler_add(struct scheduler *sch, struct envelope *env, int fd)
{
	struct qentry *q = xcalloc(1, sizeof(*q));
	q->env = *env;
	memset(env, 0, sizeof(*env));
	q->fd = fd;
	q->next_try = time(NULL);
	TAILQ_INSERT_TAIL(&sch->entries, q, link);
	scheduler_kick(sch);
}

static bool has_pending(const struct qentry *q)
{
	for (size_t i = 0; i < q->env.n_rcpts; i++)
		if (q->env.rcpts[i].status == RCPT_PENDING)
			return true;
	return false;
}

static void entry_free(struct scheduler *sch, struct qentry *q)
{
	TAILQ_REMOVE(&sch->entries, q, link);
	close(q->fd);
	envelope_clear(&q->env);
	free(q);
}

static unsigned retry_delay(const struct config *c, unsigned attempts)
{
	unsigned long long d = c->queue.retry_min;
	for (unsigned i = 1; i < attempts && d < c->queue.retry_max; i++)
		d *= 2;
	return d > c->queue.retry_max ? c->queue.retry_max : (unsigned)d;
}

/* After a delivery round: remove the message if no recipient is pending,
 * otherwise schedule the next try. */
static void settle(struct scheduler *sch, struct qentry *q)
{
	q->round_over = false;
	if (!has_pending(q)) {
		if (spool_remove(sch->spool, q->env.id) == 0)
			log_event(LOG_INFO, "removed", "queue_id", q->env.id, NULL);
		entry_free(sch, q);
		return;
	}
	q->next_try = time(NULL) + retry_delay(sch->config, q->attempts);
	log_event(LOG_INFO, "retry_scheduled", "queue_id", q->env.id,
		  "in", log_u64((unsigned long long)(q->next_try - time(NULL))), NULL);
}

/* Runs only from the event loop (timer or kick), never from inside a
 * delivery: entries are freed here and nowhere else. */
static void scheduler_run(struct scheduler *sch)
{
	struct qentry *q, *next;
	for (q = TAILQ_FIRST(&sch->entries); q; q = next) {
		next = TAILQ_NEXT(q, link);
		if (q->round_over)
			settle(sch, q);
	}
	time_t now = time(NULL), soonest = 0;
	TAILQ_FOREACH(q, &sch->entries, link) {
		if (q->in_flight || q->round_over)
			continue;
		if (q->next_try > now) {
			if (!soonest || q->next_try < soonest)
				soonest = q->next_try;
			continue;
		}
		if (sch->active >= sch->config->queue.delivery_concurrency)
			break;  /* a finished delivery kicks us again */
		q->in_flight = true;
		q->any_deferred = false;
		q->attempts++;
		sch->active++;
		deliver_start(sch->base, sch->config, sch, q);
	}
	evtimer_del(sch->timer);
	if (soonest)
		evtimer_add(sch->timer, &(struct timeval){ .tv_sec = soonest > now ? soonest - now : 0 });
}

void scheduler_rcpt_result(struct scheduler *sch, struct qentry *q, size_t rcpt, int code,
			   const char *reply, const char *nexthop)
{
	scheduler_rcpt_result_tls(sch, q, rcpt, code, reply, nexthop, NULL);
}

void scheduler_rcpt_result_tls(struct scheduler *sch, struct qentry *q, size_t rcpt, int code,
			       const char *reply, const char *nexthop, const char *tls)
{
	struct envelope_rcpt *r = &q->env.rcpts[rcpt];
	const char *status;
	if (code >= 200 && code < 300) {
		status = "sent";
		if (spool_mark(sch->spool, q->fd, r, RCPT_DELIVERED) == 0)
			r->status = RCPT_DELIVERED;
	} else if (code >= 500) {
		/* Bounce messages (RFC 3464 DSNs) come with the delivery engine; until
		 * then the failure is recorded in the spool file and logged. */
		status = "failed";
		if (spool_mark(sch->spool, q->fd, r, RCPT_FAILED) == 0)
			r->status = RCPT_FAILED;
	} else {
		status = "deferred";
		q->any_deferred = true;
	}
	log_event(code >= 200 && code < 300 ? LOG_INFO : LOG_WARNING, "delivery", "queue_id", q->env.id,
		  "to", r->addr, "nexthop", nexthop, "status", status, "attempt", log_u64(q->attempts),
		  "reply", reply, tls ? "tls" : NULL, tls, NULL);
}

void scheduler_job_done(struct scheduler *sch, struct qentry *q)
{
	if (--q->jobs_left > 0)
		return;
	q->in_flight = false;
	q->round_over = true;
	sch->active--;
	scheduler_kick(sch);
}
