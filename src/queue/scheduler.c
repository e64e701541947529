#include "queue/scheduler.h"
#include "queue/partners_learn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "dns/dns.h"
#include "queue/config.h"
#include "queue/deliver.h"
#include "queue/dsn.h"
#include "queue/mtasts_lookup.h"
#include "dns/dnssec.h"
#include "queue/qclock.h"
#include "queue/readyq.h"
#include "queue/smarthost_auth.h"
#include "queue/spool.h"
#include "queue/tlsrpt.h"
#include "smtp/address.h"
#include "smtp/client.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/metrics.h"
#include "util/log.h"
#include "util/monotime.h"

#define DNS_TRIES 2
#define POOL_IDLE_TIMEOUT 5     /* seconds a parked connection waits for the next message */
#define POOL_MAX_MESSAGES 100   /* messages per connection */
#define KEPT_FDS_MAX 256        /* spool files kept open between commit and first round */

TAILQ_HEAD(qentry_list, qentry);

struct scheduler {
	struct event_base *base;
	const struct config *config;
	struct spool *spool;
	struct dns *dns;
	struct mtasts_lookup *mtasts;   /* TLS-8; NULL: no worker threads, no MTA-STS */
	struct dnssec *dnssec;          /* TLS-8, DANE: made on first use (scheduler_dnssec) */
	bool dnssec_tried;
	struct tlsrpt *tlsrpt;          /* TLS-8, TLS-RPT counts and reports */
	struct smtp_client_pool *pool;
	struct smarthost_auth *smart_auth;  /* issue 15: read at start and on every reload */
	TAILQ_HEAD(, qentry) entries;   /* all of them (administration) */
	size_t n_entries;               /* their number: the queue depth (SCAN-11 triggers) */
	/* The places that are walked: a run touches only entries that need
	 * something, never the whole queue. */
	struct readyq *ready;
	struct qentry_list waiting, settling;
	int64_t soonest;                /* earliest next_try in waiting, 0 if empty (monotonic) */
	unsigned kept_fds;              /* spool files open (entries' fd >= 0) */
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
	/* Without a resolver, MX-routed mail waits (451) and static routes
	 * still work (TOP-4). */
	sch->dns = dns_new(base, c->dns.servers, c->dns.timeout * 1000, DNS_TRIES);
	char db[PATH_MAX];
	snprintf(db, sizeof(db), "%s/mta-sts/policies.db", c->state_dir);
	sch->mtasts = mtasts_lookup_new(base, db);
	sch->tlsrpt = tlsrpt_new(base, sch, s, c->state_dir);
	sch->pool = smtp_client_pool_new(base, c->queue->per_destination, c->queue->connection_reuse,
					 POOL_IDLE_TIMEOUT, POOL_MAX_MESSAGES);
	sch->smart_auth = smarthost_auth_new();
	smarthost_auth_reload(sch->smart_auth, c);
	TAILQ_INIT(&sch->entries);
	/* The pool's limit, which stays as it is on reload: a round for a next
	 * hop at its share would only wait for a connection there (item 9). */
	sch->ready = readyq_new(c->queue->per_destination);
	TAILQ_INIT(&sch->waiting);
	TAILQ_INIT(&sch->settling);
	sch->timer = evtimer_new(base, on_timer, sch);
	sch->kick_ev = event_new(base, -1, 0, on_timer, sch);
	return sch;
}

static void entry_free(struct scheduler *sch, struct qentry *q);

void scheduler_free(struct scheduler *sch)
{
	/* First the SMTP/LMTP sessions in flight (issue 18 item 12): each is
	 * cut at once, without waiting for its next hop, and reports a 451 for
	 * its recipients, so deliver.c frees its job and the round ends as
	 * usual (scheduler_job_done) while the entries are still here; nothing
	 * is marked delivered that was not (an LMTP recipient already accepted
	 * is). Then the resolver: it cancels its queries, whose callbacks still
	 * find their entries; a job that resolved its addresses meanwhile meets
	 * the stopped pool and ends at once the same way. */
	smtp_client_pool_stop(sch->pool);
	/* MTA-STS lookups end before the resolver goes: one that ends during
	 * dns_free() must not start another query (see mtasts_lookup.h). */
	mtasts_lookup_stop(sch->mtasts);
	/* DANE lookups in flight end (stopped) while their entries are here. */
	dnssec_free(sch->dnssec);
	sch->dnssec = NULL;
	if (sch->dns)
		dns_free(sch->dns);
	sch->dns = NULL;
	tlsrpt_free(sch->tlsrpt);  /* its report lookups ended with the resolver */
	struct qentry *q;
	while ((q = TAILQ_FIRST(&sch->entries)) != NULL)
		entry_free(sch, q);
	readyq_free(sch->ready);
	mtasts_lookup_free(sch->mtasts);
	smtp_client_pool_free(sch->pool);
	smarthost_auth_free(sch->smart_auth);
	event_free(sch->timer);
	event_free(sch->kick_ev);
	free(sch);
}

void scheduler_set_config(struct scheduler *sch, const struct config *c)
{
	sch->config = c;
	smarthost_auth_reload(sch->smart_auth, c);
	scheduler_kick(sch);  /* a higher delivery_concurrency may start rounds now */
}

void scheduler_kick(struct scheduler *sch)
{
	/* Deferred to the loop: callers may be deep inside a delivery callback. */
	event_active(sch->kick_ev, 0, 0);
}

static struct qentry_list *place_list(struct scheduler *sch, enum qentry_place p)
{
	switch (p) {
	case QPLACE_WAITING: return &sch->waiting;
	case QPLACE_SETTLING: return &sch->settling;
	case QPLACE_NONE:
	case QPLACE_READY:  /* readyq.c's lists */
	case QPLACE_FLIGHT:
	case QPLACE_HELD: break;
	}
	return NULL;
}

/* The timer fires when the earliest waiting entry is due (none: off). */
static void arm_timer(struct scheduler *sch, int64_t now)
{
	evtimer_del(sch->timer);
	if (sch->soonest)
		evtimer_add(sch->timer, &(struct timeval){ .tv_sec = sch->soonest > now ? sch->soonest - now : 0 });
}

/* The queue_messages gauge of each place (util/metrics.h). */
static void count_place(enum qentry_place p, int delta)
{
	static const int gauge_of[] = {
		[QPLACE_NONE] = -1,			[QPLACE_READY] = G_QUEUE_READY,
		[QPLACE_WAITING] = G_QUEUE_WAITING,	[QPLACE_FLIGHT] = G_QUEUE_ACTIVE,
		[QPLACE_SETTLING] = G_QUEUE_SETTLING,	[QPLACE_HELD] = G_QUEUE_HELD,
	};
	if (gauge_of[p] >= 0)
		metrics_gauge_add((enum metric_gauge)gauge_of[p], delta);
}

/* The one way an entry changes place. */
static void move_to(struct scheduler *sch, struct qentry *q, enum qentry_place p)
{
	count_place(q->place, -1);
	count_place(p, 1);
	struct qentry_list *from = place_list(sch, q->place), *to = place_list(sch, p);
	if (from)
		TAILQ_REMOVE(from, q, place_link);
	else if (q->place == QPLACE_READY && p == QPLACE_FLIGHT) {
		if (readyq_start(sch->ready, q))
			log_event(LOG_DEBUG, "nexthop_busy", "nexthop", q->hop_key, NULL);  /* at its share */
	} else if (q->place == QPLACE_READY)
		readyq_remove(sch->ready, q);
	else if (q->place == QPLACE_FLIGHT)
		readyq_finish(sch->ready, q);
	if (to)
		TAILQ_INSERT_TAIL(to, q, place_link);
	else if (p == QPLACE_READY)
		readyq_push(sch->ready, q);
	q->place = p;
	if (p == QPLACE_WAITING && (!sch->soonest || q->next_try < sch->soonest)) {
		sch->soonest = q->next_try;
		arm_timer(sch, qclock_now().mono);
	}
}

/* An entry no round runs for: held, due, or waiting for its next try. */
static void place_idle(struct scheduler *sch, struct qentry *q)
{
	q->dest_key = NULL;
	for (size_t i = 0; i < q->env.n_rcpts && !q->dest_key; i++)
		if (q->env.rcpts[i].status == RCPT_PENDING)
			q->dest_key = address_domain(q->env.rcpts[i].addr);
	deliver_nexthop(sch->config, q->dest_key ? q->dest_key : "", q->hop_key, sizeof(q->hop_key));
	move_to(sch, q, q->held ? QPLACE_HELD : q->next_try <= qclock_now().mono ? QPLACE_READY : QPLACE_WAITING);
}

void scheduler_add(struct scheduler *sch, struct envelope *env, int fd, bool held)
{
	struct qentry *q = xcalloc(1, sizeof(*q));
	q->env = *env;
	memset(env, 0, sizeof(*env));
	q->rs = xcalloc(q->env.n_rcpts ? q->env.n_rcpts : 1, sizeof(*q->rs));
	q->size = q->env.body_end > q->env.body_offset ? (unsigned long long)(q->env.body_end - q->env.body_offset) : 0;
	/* The descriptor serves the first round, which usually starts at once;
	 * later rounds open the file again, so the number of queued messages
	 * is not bounded by the descriptor limit. */
	q->fd = -1;
	if (!held && sch->kept_fds < KEPT_FDS_MAX) {
		q->fd = fd;
		sch->kept_fds++;
	} else {
		close(fd);
	}
	q->held = held;
	/* Its age counts from the persisted arrival: a recovered message keeps
	 * the time it has already spent in the queue (item 10). */
	struct qclock now = qclock_now();
	q->since = qclock_since(&now, q->env.arrival);
	q->next_try = now.mono;
	q->place = QPLACE_NONE;
	TAILQ_INSERT_TAIL(&sch->entries, q, link);
	sch->n_entries++;
	place_idle(sch, q);
	scheduler_kick(sch);
}

size_t scheduler_depth(const struct scheduler *sch)
{
	return sch->n_entries;
}

static bool has_pending(const struct qentry *q)
{
	for (size_t i = 0; i < q->env.n_rcpts; i++)
		if (q->env.rcpts[i].status == RCPT_PENDING)
			return true;
	return false;
}

static void close_msg(struct scheduler *sch, struct qentry *q)
{
	if (q->fd < 0)
		return;
	close(q->fd);
	q->fd = -1;
	sch->kept_fds--;
}

static void entry_free(struct scheduler *sch, struct qentry *q)
{
	move_to(sch, q, QPLACE_NONE);
	TAILQ_REMOVE(&sch->entries, q, link);
	sch->n_entries--;
	close_msg(sch, q);
	for (size_t i = 0; i < q->env.n_rcpts; i++) {
		free(q->rs[i].last_reply);
		free(q->rs[i].last_mta);
	}
	free(q->rs);
	envelope_clear(&q->env);
	free(q);
}

uint64_t scheduler_oldest_arrival(const struct scheduler *sch)
{
	const struct qentry *q = TAILQ_FIRST(&sch->entries);
	return q ? q->env.arrival : 0;
}

unsigned retry_schedule(unsigned retry_min, unsigned retry_max, unsigned attempts)
{
	unsigned long long d = retry_min;
	for (unsigned i = 1; i < attempts && d < retry_max; i++)
		d *= 2;
	return d > retry_max ? retry_max : (unsigned)d;
}

/* --- DSNs ----------------------------------------------------------------- */

static unsigned long long msg_size(const struct qentry *q);

/* The original message's header section (without the empty line). */
static char *read_headers(const struct qentry *q, size_t *len)
{
	size_t cap = DSN_HEADERS_MAX + 4;
	if ((unsigned long long)cap > msg_size(q))
		cap = (size_t)msg_size(q);  /* never into the trailer */
	char *buf = xmalloc(cap + 1);
	ssize_t n = cap ? pread(q->fd, buf, cap, q->env.body_offset) : 0;
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	char *end = memmem(buf, (size_t)n, "\r\n\r\n", 4);
	*len = end ? (size_t)(end - buf) + 2 : (size_t)n;
	if (n >= 2 && buf[0] == '\r' && buf[1] == '\n')
		*len = 0;
	return buf;
}

/* The whole original message (the caller bounds its size). */
static char *read_all(const struct qentry *q, size_t *len)
{
	size_t n = (size_t)msg_size(q);
	char *buf = xmalloc(n + 1);
	ssize_t got = pread(q->fd, buf, n, q->env.body_offset);
	*len = got > 0 ? (size_t)got : 0;
	return buf;
}

/* NOTIFY (RFC 3461 4.1): NULL means the default, FAILURE (and DELAY). */
static bool notify_has(const char *notify, const char *what)
{
	if (!notify)
		return strcmp(what, "SUCCESS") != 0;
	return strcasestr(notify, what) != NULL;
}

/* Build a DSN about q for rcpts and commit it as a new message to `to`.
 * Returns 0 (queued) or -1. */
static int dsn_send(struct scheduler *sch, struct qentry *q, const char *to, uint32_t flags,
		    const struct dsn_rcpt *rcpts, size_t n)
{
	const struct config *c = sch->config;
	char boundary[80], msgid[400];
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)time(NULL);
	snprintf(boundary, sizeof(boundary), "=_mailwarden_%s_%016llx", q->env.id, (unsigned long long)rnd);
	snprintf(msgid, sizeof(msgid), "%s.%016llx.dsn@%s", q->env.id, (unsigned long long)rnd, c->hostname);
	size_t hlen;
	/* RFC 3461 4.3: RET=FULL returns the whole message with a failure,
	 * up to DSN_FULL_MAX; anything else returns the headers. RFC 8689 5:
	 * a report about a REQUIRETLS message never returns its content and
	 * is itself sent with REQUIRETLS (it still quotes the headers). */
	bool requiretls = (q->env.flags & ENVELOPE_F_REQUIRETLS) != 0;
	bool full = rcpts[0].action == DSN_FAILED && q->env.dsn_ret && strcmp(q->env.dsn_ret, "FULL") == 0 &&
		    msg_size(q) <= DSN_FULL_MAX && !requiretls;
	char *headers = full ? read_all(q, &hlen) : read_headers(q, &hlen);
	struct dsn_info info = { .reporting_mta = c->hostname, .queue_id = q->env.id,
				 .envid = q->env.dsn_envid, .to = to, .arrival = (time_t)q->env.arrival,
				 .now = time(NULL), .boundary = boundary, .message_id = msgid, .full = full };
	size_t len;
	char *msg = dsn_build(&info, rcpts, n, headers, hlen, &len);
	free(headers);

	struct envelope e = { 0 };
	e.arrival = (uint64_t)time(NULL);
	e.session = xstrdup("");
	e.client = xstrdup("");
	e.helo = xstrdup(c->hostname);
	e.sender = xstrdup("");  /* RFC 5321 4.5.5: DSNs from the null sender */
	e.flags = flags | ENVELOPE_F_BOUNCE | (full ? q->env.flags & (ENVELOPE_F_8BITMIME | ENVELOPE_F_SMTPUTF8) : 0) |
		  (requiretls ? ENVELOPE_F_REQUIRETLS : 0);
	envelope_add_rcpt(&e, to);
	int fd = spool_inject(sch->spool, &e, msg, len);
	free(msg);
	if (fd < 0) {
		envelope_clear(&e);
		return -1;
	}
	log_event(LOG_INFO, "dsn_queued", "queue_id", e.id, "about", q->env.id, "to", to,
		  "action", rcpts[0].action == DSN_FAILED ? "failed" : rcpts[0].action == DSN_DELAYED ? "delayed"
												 : "delivered",
		  "nrcpt", log_u64(n), NULL);
	scheduler_add(sch, &e, fd, false);
	return 0;
}

static struct dsn_rcpt *dsn_rcpts_for(struct qentry *q, bool (*want)(struct qentry *, size_t),
				      enum dsn_action action, size_t *n)
{
	struct dsn_rcpt *r = xcalloc(q->env.n_rcpts, sizeof(*r));
	*n = 0;
	for (size_t i = 0; i < q->env.n_rcpts; i++) {
		if (!want(q, i))
			continue;
		const char *orcpt = q->env.rcpts[i].dsn_orcpt;
		const char *semi = orcpt ? strchr(orcpt, ';') : NULL;
		r[(*n)++] = (struct dsn_rcpt){ .addr = q->env.rcpts[i].addr, .orcpt = semi ? semi + 1 : NULL,
					       .action = action, .reply = q->rs[i].last_reply,
					       .remote_mta = q->rs[i].last_mta };
	}
	return r;
}

static bool want_failed(struct qentry *q, size_t i)
{
	return q->rs[i].failing && notify_has(q->env.rcpts[i].dsn_notify, "FAILURE");
}

static bool want_success(struct qentry *q, size_t i)
{
	return q->rs[i].notify_success;
}

static bool want_delayed(struct qentry *q, size_t i)
{
	return q->env.rcpts[i].status == RCPT_PENDING && !q->rs[i].failing &&
	       notify_has(q->env.rcpts[i].dsn_notify, "DELAY");
}

/* Bounce the failing recipients, then mark them failed. Returns false if
 * the bounce could not be queued (they stay pending; tried again later). */
static bool bounce_failures(struct scheduler *sch, struct qentry *q)
{
	size_t n_fail = 0;
	for (size_t i = 0; i < q->env.n_rcpts; i++)
		n_fail += q->rs[i].failing && q->env.rcpts[i].status == RCPT_PENDING;
	if (n_fail == 0)
		return true;
	size_t n;
	struct dsn_rcpt *r = dsn_rcpts_for(q, want_failed, DSN_FAILED, &n);
	int rc = 0;
	if (n > 0) {
		if (q->env.sender[0]) {
			rc = dsn_send(sch, q, q->env.sender, 0, r, n);
		} else if (sch->config->queue->bounce_notify && !(q->env.flags & ENVELOPE_F_DOUBLE_BOUNCE)) {
			/* Never bounce a bounce: the postmaster gets it, once. */
			rc = dsn_send(sch, q, sch->config->queue->bounce_notify, ENVELOPE_F_DOUBLE_BOUNCE, r, n);
		} else {
			log_event(LOG_WARNING, "bounce_dropped", "queue_id", q->env.id,
				  "msg", "undeliverable message from the null sender, not bounced", NULL);
		}
	}
	free(r);
	if (rc < 0)
		return false;
	for (size_t i = 0; i < q->env.n_rcpts; i++) {
		struct envelope_rcpt *er = &q->env.rcpts[i];
		if (!q->rs[i].failing || er->status != RCPT_PENDING)
			continue;
		if (spool_mark(sch->spool, q->fd, er, RCPT_FAILED) == 0) {
			er->status = RCPT_FAILED;
			q->marks_unsynced = true;
		}
		q->rs[i].failing = false;
		metrics_count(M_BOUNCES);
		log_event(LOG_WARNING, "bounced", "queue_id", q->env.id, "to", er->addr, "reply",
			  q->rs[i].last_reply, NULL);
	}
	return true;
}

static void notify_successes(struct scheduler *sch, struct qentry *q)
{
	size_t n;
	struct dsn_rcpt *r = dsn_rcpts_for(q, want_success, DSN_DELIVERED, &n);
	for (size_t i = 0, k = 0; i < q->env.n_rcpts && k < n; i++)
		if (want_success(q, i))
			r[k++].action = q->rs[i].relayed ? DSN_RELAYED : DSN_DELIVERED;
	if (n > 0 && q->env.sender[0])
		dsn_send(sch, q, q->env.sender, 0, r, n);
	for (size_t i = 0; i < q->env.n_rcpts; i++)
		q->rs[i].notify_success = false;
	free(r);
}

static void warn_delay(struct scheduler *sch, struct qentry *q, const struct qclock *now)
{
	unsigned after = sch->config->queue->delay_warning;
	if (!after || q->env.warned || !q->env.sender[0] || (q->env.flags & ENVELOPE_F_BOUNCE) ||
	    qclock_age(now, q->since) < (int64_t)after)
		return;
	size_t n;
	struct dsn_rcpt *r = dsn_rcpts_for(q, want_delayed, DSN_DELAYED, &n);
	if (n == 0 || dsn_send(sch, q, q->env.sender, 0, r, n) == 0) {
		q->env.warned = true;
		spool_mark_warned(sch->spool, q->fd, &q->env);
	}
	free(r);
}

/* After a delivery round. */
static void settle(struct scheduler *sch, struct qentry *q)
{
	const struct config *c = sch->config;
	struct qclock now = qclock_now();
	/* past the lifetime every pending recipient fails with its last
	 * error; the lifetime is monotonic time in the queue, so a step of the
	 * wall clock expires nothing (item 10). */
	if (qclock_expired(&now, q->since, c->queue->lifetime)) {
		for (size_t i = 0; i < q->env.n_rcpts; i++) {
			if (q->env.rcpts[i].status != RCPT_PENDING || q->rs[i].failing)
				continue;
			char reply[700];
			snprintf(reply, sizeof(reply), "451 4.4.7 gave up after %u seconds in the queue; last error: %s",
				 c->queue->lifetime, q->rs[i].last_reply ? q->rs[i].last_reply : "none");
			free(q->rs[i].last_reply);
			q->rs[i].last_reply = xstrdup(reply);
			q->rs[i].failing = true;
		}
	}
	bool bounced = bounce_failures(sch, q);
	notify_successes(sch, q);
	if (!has_pending(q)) {
		/* Its marks need no sync of their own: the removal is made
		 * durable instead (spool.h). */
		spool_remove(sch->spool, q->env.id, false);  /* logs "removed" when the file is gone */
		entry_free(sch, q);
		return;
	}
	if (q->marks_unsynced)
		spool_sync_marks(sch->spool, q->fd);
	q->marks_unsynced = false;
	warn_delay(sch, q, &now);
	unsigned delay = bounced ? retry_schedule(c->queue->retry_min, c->queue->retry_max, q->attempts)
				 : c->queue->retry_min;
	q->next_try = qclock_next_try(&now, q->since, delay, c->queue->lifetime);
	log_event(LOG_INFO, "retry_scheduled", "queue_id", q->env.id,
		  "in", log_u64((unsigned long long)(q->next_try - now.mono)), "attempt", log_u64(q->attempts), NULL);
	close_msg(sch, q);
	place_idle(sch, q);
}

/* Waiting entries whose time has come become ready. Walks the waiting
 * list only when its earliest entry is due. */
static void wake_due(struct scheduler *sch, int64_t now)
{
	if (!sch->soonest)
		return;
	if (sch->soonest > now) {
		if (!evtimer_pending(sch->timer, NULL))
			arm_timer(sch, now);
		return;
	}
	sch->soonest = 0;
	struct qentry *q, *next;
	for (q = TAILQ_FIRST(&sch->waiting); q; q = next) {
		next = TAILQ_NEXT(q, place_link);
		if (q->next_try <= now)
			move_to(sch, q, QPLACE_READY);
		else if (!sch->soonest || q->next_try < sch->soonest)
			sch->soonest = q->next_try;
	}
	arm_timer(sch, now);
}

static void start_round(struct scheduler *sch, struct qentry *q, int64_t now)
{
	if (q->fd < 0) {
		q->fd = spool_open_msg(sch->spool, q->env.id, false);
		if (q->fd < 0) {
			log_event(LOG_ERR, "spool_error", "op", "open", "queue_id", q->env.id, "msg", strerror(errno), NULL);
			q->next_try = now + sch->config->queue->retry_min;
			move_to(sch, q, QPLACE_WAITING);
			return;
		}
		sch->kept_fds++;
	}
	move_to(sch, q, QPLACE_FLIGHT);
	q->any_deferred = false;
	q->attempts++;
	q->last_try = now;
	sch->active++;
	deliver_start(sch->base, sch->config, sch->dns, sch, q);
}

/* Runs only from the event loop (timer or kick), never from inside a
 * delivery: entries are freed here and in the admin commands (which
 * refuse an entry in flight), nowhere else. */
static void scheduler_run(struct scheduler *sch)
{
	struct qentry *q;
	while ((q = TAILQ_FIRST(&sch->settling)) != NULL)
		settle(sch, q);
	int64_t now = qclock_now().mono;
	wake_due(sch, now);
	/* A finished delivery kicks us again when the limit holds us back. */
	while (sch->active < sch->config->queue->delivery_concurrency && (q = readyq_next(sch->ready)) != NULL)
		start_round(sch, q, now);
}

struct dns *scheduler_dns(struct scheduler *sch)
{
	return sch->dns;
}

struct tlsrpt *scheduler_tlsrpt(struct scheduler *sch)
{
	return sch->tlsrpt;
}

const struct config *scheduler_config(const struct scheduler *sch)
{
	return sch->config;
}

struct mtasts_lookup *scheduler_mtasts(struct scheduler *sch)
{
	return sch->mtasts;
}

struct dnssec *scheduler_dnssec(struct scheduler *sch, const struct config *c)
{
	if (sch->dnssec_tried)
		return sch->dnssec;
	/* Once per queue process: a changed trust anchor or resolver takes a
	 * restart. A validator that cannot start is logged once; DANE
	 * destinations then defer (deliver.c), nothing goes unverified. */
	char err[300];
	sch->dnssec_tried = true;
	sch->dnssec = dnssec_new(sch->base, c->outbound_tls.dane.trust_anchor, c->outbound_tls.dane.resolver, err,
				 sizeof(err));
	if (!sch->dnssec)
		log_event(LOG_ERR, "dane_validator_failed", "why", err, NULL);
	return sch->dnssec;
}

struct smtp_client_pool *scheduler_pool(struct scheduler *sch)
{
	return sch->pool;
}

const struct smarthost_auth *scheduler_smarthost_auth(const struct scheduler *sch)
{
	return sch->smart_auth;
}

bool scheduler_rcpt_settled(const struct qentry *q, size_t rcpt)
{
	return q->rs[rcpt].failing;
}

void scheduler_rcpt_result(struct scheduler *sch, struct qentry *q, size_t rcpt, int code,
			   const char *reply, const char *nexthop, const char *mta, enum deliver_kind kind,
			   const struct deliver_tls *tls, const struct delivery_times *times)
{
	struct envelope_rcpt *r = &q->env.rcpts[rcpt];
	struct qrcpt_state *rs = &q->rs[rcpt];
	const char *status;
	free(rs->last_reply);
	free(rs->last_mta);
	rs->last_reply = xstrdup(reply);
	rs->last_mta = mta ? xstrdup(mta) : NULL;
	if (code >= 200 && code < 300) {
		status = "sent";
		if (spool_mark(sch->spool, q->fd, r, RCPT_DELIVERED) == 0) {
			r->status = RCPT_DELIVERED;
			q->marks_unsynced = true;
		}
		rs->notify_success = r->dsn_notify && notify_has(r->dsn_notify, "SUCCESS") &&
				     kind != DELIVER_DSN_PASSED;
		rs->relayed = kind == DELIVER_RELAYED;
		partners_learn_delivered(sch->config, &q->env, r->addr);
	} else if (code >= 500) {
		/* Marked failed once the bounce is queued (settle). */
		status = "failed";
		rs->failing = true;
		snprintf(q->last_error, sizeof(q->last_error), "%s", reply);
	} else {
		status = "deferred";
		q->any_deferred = true;
		snprintf(q->last_error, sizeof(q->last_error), "%s", reply);
	}
	metrics_delivery(code, q->env.arrival, deliver_hop_class(sch->config, nexthop), q->attempts > 1);
	struct delivery_delays d = delivery_delays_of(times, q->env.arrival, monotime_ms());
	log_event(code >= 200 && code < 300 ? LOG_INFO : LOG_WARNING, "delivery", "queue_id", q->env.id,
		  "to", r->addr, "nexthop", nexthop, "mta", mta, "status", status, "attempt", log_u64(q->attempts),
		  "delay", log_ms(d.total), "delay_queue", log_ms(d.queue), "delay_conn", log_ms(d.conn),
		  "delay_xmit", log_ms(d.xmit), "reply", reply, "requiretls",
		  q->env.flags & ENVELOPE_F_REQUIRETLS ? "yes" : "no",
		  tls ? "tls_policy" : NULL, tls ? tls->policy : NULL, "tls_verified",
		  tls && tls->verified ? "yes" : "no", tls && tls->session ? "tls" : NULL, tls ? tls->session : NULL,
		  NULL);
}

void scheduler_job_done(struct scheduler *sch, struct qentry *q)
{
	if (--q->jobs_left > 0)
		return;
	move_to(sch, q, QPLACE_SETTLING);
	sch->active--;
	scheduler_kick(sch);
}

/* --- administration (Q-3) --------------------------------------------------- */

static struct qentry *find(struct scheduler *sch, const char *id)
{
	struct qentry *q;
	TAILQ_FOREACH(q, &sch->entries, link)
		if (strcmp(q->env.id, id) == 0)
			return q;
	return NULL;
}

static struct qentry *find_or_complain(struct scheduler *sch, const char *id, FILE *out)
{
	struct qentry *q = id && queue_id_valid(id) ? find(sch, id) : NULL;
	if (!q)
		fprintf(out, "error: no message %s in the queue\n", id ? id : "(none)");
	return q;
}

static bool busy(const struct qentry *q, FILE *out)
{
	if (q->place == QPLACE_FLIGHT || q->place == QPLACE_SETTLING) {
		fprintf(out, "error: %s is being delivered right now; try again in a moment\n", q->env.id);
		return true;
	}
	return false;
}

static unsigned long long msg_size(const struct qentry *q)
{
	return q->size;
}

/* Printable for the text listing: controls become '?'. */
static void text_str(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

static const char *state_of(const struct qentry *q)
{
	return q->held ? "held" : q->place == QPLACE_FLIGHT ? "active" : "queued";
}

int scheduler_admin_list(struct scheduler *sch, bool json, FILE *out)
{
	struct qclock now = qclock_now();
	struct qentry *q;
	bool first = true;
	if (json)
		fputs("[", out);
	else
		fprintf(out, "%-16s %6s %8s %-7s %-8s %s\n", "ID", "AGE", "SIZE", "STATE", "NEXT", "SENDER / RECIPIENTS / LAST ERROR");
	TAILQ_FOREACH(q, &sch->entries, link) {
		long long age = (long long)qclock_age(&now, q->since);
		long long next = q->held || q->place == QPLACE_FLIGHT ? -1
				 : (long long)(q->next_try > now.mono ? q->next_try - now.mono : 0);
		if (json) {
			fprintf(out, "%s\n {\"id\": \"%s\", \"age\": %lld, \"size\": %llu, \"state\": \"%s\", \"next_try\": %lld, "
				     "\"attempts\": %u, \"sender\": ", first ? "" : ",", q->env.id, age, msg_size(q),
				state_of(q), next, q->attempts);
			json_put_str(out, q->env.sender);
			fputs(", \"recipients\": [", out);
			for (size_t i = 0; i < q->env.n_rcpts; i++) {
				fputs(i ? ", {\"address\": " : "{\"address\": ", out);
				json_put_str(out, q->env.rcpts[i].addr);
				fprintf(out, ", \"status\": \"%s\", \"last_reply\": ",
					q->env.rcpts[i].status == RCPT_DELIVERED ? "delivered"
					: q->env.rcpts[i].status == RCPT_FAILED ? "failed" : "pending");
				json_put_str(out, q->rs[i].last_reply);
				fputc('}', out);
			}
			fputs("], \"last_error\": ", out);
			json_put_str(out, q->last_error);
			fputc('}', out);
		} else {
			char nexts[24];
			if (next < 0)
				snprintf(nexts, sizeof(nexts), "-");
			else
				snprintf(nexts, sizeof(nexts), "%llds", next);
			fprintf(out, "%-16s %5llds %8llu %-7s %-8s <", q->env.id, age, msg_size(q), state_of(q), nexts);
			text_str(out, q->env.sender);
			fputs(">\n", out);
			for (size_t i = 0; i < q->env.n_rcpts; i++) {
				if (q->env.rcpts[i].status != RCPT_PENDING)
					continue;
				fputs("        ", out);
				text_str(out, q->env.rcpts[i].addr);
				fputc('\n', out);
			}
			if (q->last_error[0]) {
				fputs("        (", out);
				text_str(out, q->last_error);
				fputs(")\n", out);
			}
		}
		first = false;
	}
	if (json)
		fputs("\n]\n", out);
	return 0;
}

int scheduler_admin_show(struct scheduler *sch, const char *id, FILE *out)
{
	struct qentry *q = find_or_complain(sch, id, out);
	if (!q)
		return -1;
	struct qclock now = qclock_now();
	fprintf(out, "id: %s\nstate: %s\nage: %llds\nsize: %llu\nattempts: %u\n", q->env.id, state_of(q),
		(long long)qclock_age(&now, q->since), msg_size(q), q->attempts);
	fputs("sender: <", out);
	text_str(out, q->env.sender);
	fputs(">\nclient: ", out);
	text_str(out, q->env.client);
	fputs("\nhelo: ", out);
	text_str(out, q->env.helo);
	fputs("\nverdict: ", out);
	text_str(out, q->env.verdict ? q->env.verdict : "none");
	fputs("\n", out);
	for (size_t i = 0; i < q->env.n_rcpts; i++) {
		const struct envelope_rcpt *r = &q->env.rcpts[i];
		fputs("recipient: <", out);
		text_str(out, r->addr);
		fprintf(out, "> %s", r->status == RCPT_DELIVERED ? "delivered" : r->status == RCPT_FAILED ? "failed" : "pending");
		if (q->rs[i].last_reply) {
			fputs(" (", out);
			text_str(out, q->rs[i].last_reply);
			fputs(")", out);
		}
		fputs("\n", out);
	}
	size_t hlen;
	bool opened = q->fd < 0;
	if (opened && (q->fd = spool_open_msg(sch->spool, q->env.id, q->held)) >= 0)
		sch->kept_fds++;
	char *h = read_headers(q, &hlen);
	if (opened)
		close_msg(sch, q);
	fputs("\n", out);
	for (size_t i = 0; i < hlen; i++)
		if (h[i] != '\r')
			fputc((unsigned char)h[i] < 0x20 && h[i] != '\n' && h[i] != '\t' ? '?' : h[i], out);
	free(h);
	return 0;
}

int scheduler_admin_flush(struct scheduler *sch, const char *id, FILE *out)
{
	struct qentry *q;
	unsigned n = 0;
	if (id) {
		if (!(q = find_or_complain(sch, id, out)))
			return -1;
		if (q->held) {
			fprintf(out, "error: %s is held; release it first\n", id);
			return -1;
		}
		q->next_try = qclock_now().mono;
		if (q->place == QPLACE_WAITING)
			move_to(sch, q, QPLACE_READY);
		n = 1;
	} else {
		TAILQ_FOREACH(q, &sch->entries, link)
			if (q->place == QPLACE_WAITING || q->place == QPLACE_READY) {
				q->next_try = qclock_now().mono;
				if (q->place == QPLACE_WAITING)
					move_to(sch, q, QPLACE_READY);
				n++;
			}
	}
	scheduler_kick(sch);
	fprintf(out, "flushed %u message%s\n", n, n == 1 ? "" : "s");
	return 0;
}

int scheduler_admin_hold(struct scheduler *sch, const char *id, FILE *out)
{
	struct qentry *q = find_or_complain(sch, id, out);
	if (!q || busy(q, out))
		return -1;
	if (q->held) {
		fprintf(out, "%s is already held\n", id);
		return 0;
	}
	if (spool_hold(sch->spool, id) < 0) {
		fprintf(out, "error: %s could not be moved to hold/: %s\n", id, strerror(errno));
		return -1;
	}
	q->held = true;
	close_msg(sch, q);  /* the file moved; a kept descriptor would outlive the hold */
	place_idle(sch, q);
	fprintf(out, "held %s\n", id);
	return 0;
}

int scheduler_admin_release(struct scheduler *sch, const char *id, FILE *out)
{
	struct qentry *q = find_or_complain(sch, id, out);
	if (!q)
		return -1;
	if (!q->held) {
		fprintf(out, "%s is not held\n", id);
		return 0;
	}
	if (spool_release(sch->spool, id) < 0) {
		fprintf(out, "error: %s could not be moved back to queue/: %s\n", id, strerror(errno));
		return -1;
	}
	q->held = false;
	q->next_try = qclock_now().mono;
	if (q->place == QPLACE_HELD)
		place_idle(sch, q);
	scheduler_kick(sch);
	fprintf(out, "released %s\n", id);
	return 0;
}

int scheduler_admin_delete(struct scheduler *sch, const char *id, FILE *out)
{
	struct qentry *q = find_or_complain(sch, id, out);
	if (!q || busy(q, out))
		return -1;
	if (spool_delete(sch->spool, id, q->held) < 0) {
		fprintf(out, "error: %s could not be removed: %s\n", id, strerror(errno));
		return -1;
	}
	entry_free(sch, q);
	fprintf(out, "deleted %s\n", id);
	return 0;
}
