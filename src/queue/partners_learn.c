/*
 * See partners_learn.h. Runs in the queue: noting on the loop, writing
 * in one worker thread, which alone uses the store's connection.
 */
#include "queue/partners_learn.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "queue/envelope.h"
#include "state/partners.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/offload.h"

#define LEARN_PENDING_MAX 100000   /* pairs noted between two writes; more are dropped (logged) */
#define LEARN_EXPIRE_EVERY 3600    /* seconds */

/* Pairs noted and not yet handed to the worker: internal, external, ... */
struct learn_batch {
	char **text;
	size_t n, cap;
	bool expire;
	long long max_age;
};

static struct {
	struct partners *store;
	struct offload *worker;
	struct event *timer;
	struct learn_batch *pending;
	bool busy;
	size_t dropped;
	time_t last_expire;
} learn;

static void batch_free(struct learn_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->text[i]);
	free(b->text);
	free(b);
}

/* Worker thread. */
static void write_run(void *arg)
{
	struct learn_batch *b = arg;
	size_t n = b->n / 2;
	struct partner_pair *pairs = xcalloc(n ? n : 1, sizeof(*pairs));
	for (size_t i = 0; i < n; i++)
		pairs[i] = (struct partner_pair){ b->text[2 * i], b->text[2 * i + 1] };
	if (n > 0)
		partners_learn(learn.store, pairs, n, time(NULL));  /* an error is logged by the store */
	free(pairs);
	if (b->expire) {
		long long gone = partners_expire(learn.store, time(NULL), b->max_age);
		if (gone > 0)
			log_event(LOG_INFO, "partners_expired", "pairs", log_u64((unsigned long long)gone), NULL);
	}
}

static void write_done(void *arg)
{
	batch_free(arg);
	learn.busy = false;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	const struct config *c = *(const struct config *const *)arg;
	(void)fd, (void)what;
	if (learn.busy)
		return;
	bool expire = time(NULL) - learn.last_expire >= LEARN_EXPIRE_EVERY;
	if (!learn.pending && !expire)
		return;
	struct learn_batch *b = learn.pending ? learn.pending : xcalloc(1, sizeof(*b));
	learn.pending = NULL;
	if (expire) {
		b->expire = true;
		b->max_age = c->emergency.partners.max_age;
		learn.last_expire = time(NULL);
	}
	if (learn.dropped) {
		log_event(LOG_WARNING, "partners_dropped", "pairs", log_u64(learn.dropped), "msg",
			  "more pairs noted than written in time", NULL);
		learn.dropped = 0;
	}
	learn.busy = true;
	offload_run(learn.worker, write_run, write_done, b);
}

void partners_learn_start(struct event_base *base, const struct config *const *config)
{
	learn.store = partners_open((*config)->emergency.partners.file);
	if (!learn.store)
		return;
	learn.worker = offload_new(base, 1);
	if (!learn.worker) {
		partners_close(learn.store);
		learn.store = NULL;
		return;
	}
	learn.last_expire = time(NULL) - LEARN_EXPIRE_EVERY;  /* expire once at start */
	learn.timer = event_new(base, -1, EV_PERSIST, tick, (void *)config);
	event_add(learn.timer, &(struct timeval){ .tv_sec = 1 });
}

void partners_learn_stop(void)
{
	if (learn.timer)
		event_free(learn.timer);
	offload_free(learn.worker);  /* a write in hand completes */
	batch_free(learn.pending);
	partners_close(learn.store);
	memset(&learn, 0, sizeof(learn));
}

static void note(const char *internal, const char *external)
{
	if (!learn.store || !internal[0] || !external[0])
		return;
	if (!learn.pending)
		learn.pending = xcalloc(1, sizeof(*learn.pending));
	struct learn_batch *b = learn.pending;
	if (b->n / 2 >= LEARN_PENDING_MAX) {
		learn.dropped++;
		return;
	}
	if (b->n + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->text = xreallocarray(b->text, b->cap, sizeof(*b->text));
	}
	b->text[b->n++] = xstrdup(internal);
	b->text[b->n++] = xstrdup(external);
}

static bool local(const struct config *c, const char *address)
{
	const char *at = strrchr(address, '@');
	return at && config_is_local_domain(c, at + 1, strlen(at + 1));
}

void partners_learn_delivered(const struct config *c, const struct envelope *env, const char *rcpt)
{
	if ((env->flags & ENVELOPE_F_OUTBOUND) && env->sender && !local(c, rcpt))
		note(env->sender, rcpt);
}

void partners_learn_accepted(const struct config *c, const struct envelope *env)
{
	if (!env->sender || !env->sender[0] || local(c, env->sender))
		return;
	for (size_t i = 0; i < env->n_rcpts; i++)
		if (local(c, env->rcpts[i].addr))
			note(env->rcpts[i].addr, env->sender);
}
