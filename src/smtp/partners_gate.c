/*
 * See partners_gate.h. Runs in smtpd: prepare as root before the chroot,
 * the rest on the loop and in one worker thread, which alone uses the
 * store's connection; the cache in use is touched on the loop only.
 */
#include "smtp/partners_gate.h"

#include <event2/event.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "state/partner_cache.h"
#include "state/partners.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/offload.h"

#define PARTNERS_POLL_SECONDS 2

static struct {
	struct partners *store;
	struct partner_cache *cache;     /* in use; NULL until the first load */
	const struct config *config;     /* for the allow list */
	struct offload *worker;
	struct event *timer;
	bool busy;                       /* a look is under way */
	long long generation;            /* of the cache in use; -1: none */
	time_t since;                    /* the newest last_seen the cache has */
	uint64_t seed;
} gate = { .generation = -1 };

/* One look at the store, from the worker thread back to the loop. */
struct look {
	long long generation;            /* the store's, or -1 on an error */
	time_t since;
	struct partner_cache *fresh;     /* a whole new cache, or NULL */
	char **pairs;                    /* else: internal, external, internal, ... */
	size_t n, cap;
};

static bool wanted(const struct config *c)
{
	for (size_t n = 0; n == 0 || n < c->emergency.n_levels; n++) {
		const struct config *lv = config_level(c, n);
		if (lv && lv->partners_only != PARTNERS_ONLY_OFF)
			return true;
	}
	return false;
}

bool partners_gate_prepare(const struct config *c)
{
	if (!wanted(c))
		return true;
	gate.store = partners_open_reader(c->emergency.partners.file);
	if (!gate.store)
		log_event(LOG_WARNING, "partners_store_missing", "file", c->emergency.partners.file, "msg",
			  "under partners_only only the allow list counts as partners", NULL);
	return true;
}

static struct partner_cache *new_cache(void)
{
	struct partner_cache *c = partner_cache_new(gate.seed);
	for (size_t i = 0; i < gate.config->emergency.partners.n_allow; i++)
		partner_cache_allow(c, gate.config->emergency.partners.allow[i]);
	return c;
}

static bool add_fresh(const struct partner_row *row, void *arg)
{
	struct look *l = arg;
	partner_cache_add(l->fresh, row->internal, row->external);
	if (row->last_seen > l->since)
		l->since = row->last_seen;
	return true;
}

static bool add_pair(const struct partner_row *row, void *arg)
{
	struct look *l = arg;
	if (l->n + 2 > l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->pairs = xreallocarray(l->pairs, l->cap, sizeof(*l->pairs));
	}
	l->pairs[l->n++] = xstrdup(row->internal);
	l->pairs[l->n++] = xstrdup(row->external);
	if (row->last_seen > l->since)
		l->since = row->last_seen;
	return true;
}

/* Worker thread: the store only, and a cache nobody else sees yet. */
static void look_run(void *arg)
{
	struct look *l = arg;
	long long g = gate.store ? partners_generation(gate.store) : 0;
	if (g < 0) {
		l->generation = -1;
		return;
	}
	if (g != l->generation) {
		l->fresh = new_cache();
		l->since = 0;
		if (gate.store && !partners_each(gate.store, add_fresh, l)) {
			partner_cache_free(l->fresh);
			l->fresh = NULL;
			g = -1;
		}
	} else if (!partners_each_since(gate.store, l->since, add_pair, l)) {
		g = -1;
	}
	l->generation = g;
}

/* Back on the loop. */
static void look_done(void *arg)
{
	struct look *l = arg;
	if (l->fresh) {
		partner_cache_free(gate.cache);
		gate.cache = l->fresh;
		log_event(LOG_INFO, "partners_loaded", "keys", log_u64(partner_cache_keys(gate.cache)), NULL);
	}
	for (size_t i = 0; i + 1 < l->n; i += 2)
		partner_cache_add(gate.cache, l->pairs[i], l->pairs[i + 1]);
	for (size_t i = 0; i < l->n; i++)
		free(l->pairs[i]);
	free(l->pairs);
	if (l->generation >= 0) {
		gate.generation = l->generation;
		gate.since = l->since;
	}
	gate.busy = false;
	free(l);
}

static void look(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	if (gate.busy || (!gate.store && gate.cache))
		return;
	struct look *l = xcalloc(1, sizeof(*l));
	l->generation = gate.generation;
	l->since = gate.since;
	gate.busy = true;
	offload_run(gate.worker, look_run, look_done, l);
}

void partners_gate_start(struct event_base *base, const struct config *c)
{
	if (!wanted(c))
		return;
	gate.config = c;
	if (getrandom(&gate.seed, sizeof(gate.seed), 0) != (ssize_t)sizeof(gate.seed))
		gate.seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&gate;
	gate.cache = new_cache();  /* the allow list at once; the store follows */
	gate.worker = offload_new(base, 1);
	if (!gate.worker) {
		log_event(LOG_ERR, "partners_error", "msg", "no worker thread: only the allow list counts", NULL);
		return;
	}
	gate.timer = event_new(base, -1, EV_PERSIST, look, NULL);
	event_add(gate.timer, &(struct timeval){ .tv_sec = PARTNERS_POLL_SECONDS });
	look(-1, 0, NULL);
}

void partners_gate_stop(void)
{
	if (gate.timer)
		event_free(gate.timer);
	offload_free(gate.worker);  /* a look in hand completes here */
	partner_cache_free(gate.cache);
	partners_close(gate.store);
	gate.timer = NULL;
	gate.worker = NULL;
	gate.cache = NULL;
	gate.store = NULL;
}

bool partners_gate_allows(enum partners_only pol, bool outbound, bool rcpt_local, const char *sender,
			  const char *rcpt)
{
	if (pol == PARTNERS_ONLY_OFF)
		return true;
	if (outbound) {
		if (rcpt_local || pol == PARTNERS_ONLY_INBOUND)
			return true;
		return partner_cache_has(gate.cache, sender, rcpt);
	}
	if (pol == PARTNERS_ONLY_OUTBOUND)
		return true;
	return partner_cache_has(gate.cache, rcpt, sender);
}
