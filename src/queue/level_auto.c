/*
 * Automatic emergency levels: see level_auto.h.
 */
#include "queue/level_auto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "queue/emergency.h"
#include "queue/level_notice.h"
#include "queue/load_gauge.h"
#include "queue/scheduler.h"
#include "queue/spool_space.h"
#include "queue/trigger.h"
#include "util/alloc.h"
#include "util/log.h"

#define SMTPD_MAX 256       /* smtpd processes whose session counts are kept */
#define TICK_MS 250         /* a sample; several per second, so that a load that
			     * comes and goes is seen coming and going */

struct level_auto {
	const struct config *const *config;
	const struct config *judged_by;   /* the snapshot the trigger state belongs to */
	struct emergency *em;
	struct scheduler *sch;
	struct spool *spool;
	const struct spool_space *space;  /* the spool's free space, measured for the smtpds */
	struct event *tick;
	struct load_gauge gauge;
	struct trigger_state triggers;
	unsigned long manual_seen;        /* emergency_manual_switches() at the last step */
	struct { const void *key; unsigned n; } smtpd[SMTPD_MAX];
	size_t n_smtpd;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void level_auto_received(struct level_auto *la)
{
	load_gauge_received(&la->gauge, mono_ms() / 1000);
}

void level_auto_malware(struct level_auto *la)
{
	load_gauge_malware(&la->gauge, mono_ms() / 1000);
}

void level_auto_sessions(struct level_auto *la, const void *key, unsigned n)
{
	for (size_t i = 0; i < la->n_smtpd; i++)
		if (la->smtpd[i].key == key) {
			la->smtpd[i].n = n;
			return;
		}
	if (la->n_smtpd < SMTPD_MAX) {
		la->smtpd[la->n_smtpd].key = key;
		la->smtpd[la->n_smtpd++].n = n;
	}
}

void level_auto_smtpd_gone(struct level_auto *la, const void *key)
{
	for (size_t i = 0; i < la->n_smtpd; i++)
		if (la->smtpd[i].key == key) {
			la->smtpd[i] = la->smtpd[--la->n_smtpd];
			return;
		}
}

static struct trigger_reading read_measures(struct level_auto *la)
{
	struct trigger_reading r = { .queue_depth = scheduler_depth(la->sch) };
	load_gauge_read(&la->gauge, mono_ms() / 1000, &r);
	for (size_t i = 0; i < la->n_smtpd; i++)
		r.sessions += la->smtpd[i].n;
	uint64_t free_bytes = 0;
	r.spool_known = spool_space_known(la->space, &free_bytes);
	r.spool_free = free_bytes;
	return r;
}

/* Log the switch and send the notice. */
static void announce(struct level_auto *la, const struct config *c, size_t from, size_t to, const char *why)
{
	const struct trigger_level *t = &la->triggers.lv[to > from ? to : from];
	int64_t since = to > from ? t->held_since : t->clear_since;
	struct level_notice n = { .from = from, .to = to, .why = why, .now = time(NULL),
				  .held = since ? (unsigned)((mono_ms() - since) / 1000) : 0 };
	char id[64] = "";
	log_event(LOG_WARNING, "level_trigger", "direction", to > from ? "up" : "down", "from",
		  c->emergency.levels[from].name, "to", c->emergency.levels[to].name, "emergency_level", log_u64(to),
		  "condition", why, "held", log_u64(n.held), NULL);
	if (!c->emergency.notify)
		return;
	if (level_notice_send(c, la->spool, la->sch, &n, id, sizeof(id)))
		log_event(LOG_INFO, "level_notice", "queue_id", id, "to", c->emergency.notify, NULL);
	else
		log_event(LOG_ERR, "level_notice_failed", "to", c->emergency.notify, "msg",
			  "the notice mail could not be queued", NULL);
}

/* Why the level goes where it goes: the condition of the level raised
 * to, or (lowering) of the level left. */
static void step(struct level_auto *la)
{
	const struct config *c = *la->config;
	if (c != la->judged_by || emergency_manual_switches(la->em) != la->manual_seen) {
		/* A start, a reload (levels may be new or reordered) or a
		 * switch by hand: every hold and clear time starts again. A
		 * level a trigger raised (before a restart or reload) stays
		 * active until its trigger has been clear for clear_for, not
		 * lowered at the first sample. */
		size_t cur = emergency_level(la->em);
		memset(&la->triggers, 0, sizeof(la->triggers));
		if (emergency_automatic(la->em) && cur < CONFIG_LEVELS_MAX && c->emergency.levels[cur].trigger.set)
			la->triggers.lv[cur].active = true;
		la->judged_by = c;
		la->manual_seen = emergency_manual_switches(la->em);
	}
	struct trigger_reading r = read_measures(la);
	size_t want = trigger_step(&la->triggers, c, &r, mono_ms());
	size_t from = emergency_level(la->em);
	const char *why = la->triggers.lv[want > from ? want : from].why;
	char reason[TRIGGER_WHY_MAX + 64];
	snprintf(reason, sizeof(reason), "%s", why[0] ? why : "no trigger holds");
	if (emergency_auto(la->em, want, reason))
		announce(la, c, from, emergency_level(la->em), reason);
}

/* "ctl status": where each level's trigger stands. */
static void status_lines(void *arg, FILE *out)
{
	struct level_auto *la = arg;
	const struct config *c = *la->config;
	int64_t now = mono_ms();
	if (c != la->judged_by)
		return;  /* a reload just now: nothing judged yet */
	for (size_t n = 1; n < c->emergency.n_levels && n < CONFIG_LEVELS_MAX; n++) {
		const struct level_trigger *t = &c->emergency.levels[n].trigger;
		const struct trigger_level *l = &la->triggers.lv[n];
		if (!t->set)
			continue;
		fprintf(out, "trigger %zu %s: ", n, c->emergency.levels[n].name);
		if (l->active && l->clear_since)
			fprintf(out, "active, clear for %llds of %us", (long long)(now - l->clear_since) / 1000, t->clear_for);
		else if (l->active)
			fprintf(out, "active");
		else if (l->held_since)
			fprintf(out, "holding for %llds of %us", (long long)(now - l->held_since) / 1000, t->hold_for);
		else
			fprintf(out, "clear");
		fprintf(out, " (%s)\n", l->why[0] ? l->why : "not judged yet");
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	step(arg);
}

struct level_auto *level_auto_new(struct event_base *base, const struct config *const *config,
				  struct emergency *em, struct scheduler *sch, struct spool *sp,
				  const struct spool_space *space)
{
	struct level_auto *la = xcalloc(1, sizeof(*la));
	la->config = config;
	la->em = em;
	la->sch = sch;
	la->spool = sp;
	la->space = space;
	la->tick = event_new(base, -1, EV_PERSIST, on_tick, la);
	event_add(la->tick, &(struct timeval){ .tv_usec = TICK_MS * 1000 });
	emergency_set_status_hook(em, status_lines, la);
	return la;
}

void level_auto_free(struct level_auto *la)
{
	if (!la)
		return;
	event_free(la->tick);
	free(la);
}
