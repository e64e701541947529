/*
 * Emergency triggers' hysteresis (SCAN-11): see trigger.h.
 */
#include "queue/trigger.h"

#include <stdio.h>
#include <string.h>

/* The share of received messages with a malware finding over the last
 * minutes, in percent (rounded down) into *pct; false when fewer than
 * min messages were received (no share is taken of a handful). */
static bool malware_share(const struct trigger_reading *r, unsigned minutes, unsigned min, unsigned long long *pct,
			  unsigned long long *judged)
{
	unsigned long long j = 0, m = 0;
	for (unsigned i = 0; i <= minutes * 60 / TRIGGER_SLICE && i < TRIGGER_SLICES; i++) {
		j += r->judged[i];
		m += r->malware[i];
	}
	*judged = j;
	if (j == 0 || j < min)
		return false;
	*pct = m * 100 / j;
	return true;
}

bool trigger_holds(const struct level_trigger *t, const struct trigger_reading *r, char *why, size_t size)
{
	/* Each condition: its name, value, threshold, whether it holds. */
	enum { MALWARE = 3 };
	struct {
		const char *name;
		bool named, known;
		unsigned long long value, limit;
		bool below;   /* holds when value < limit (free space) */
		const char *unit;
	} c[] = {
		{ "queue_depth", t->queue_depth != 0, true, r->queue_depth, t->queue_depth, false, "" },
		{ "received_per_minute", t->received_per_minute != 0, true, r->received_per_minute,
		  t->received_per_minute, false, "" },
		{ "sessions", t->sessions != 0, true, r->sessions, t->sessions, false, "" },
		[MALWARE] = { "malware_share", t->malware_percent != 0, false, 0, t->malware_percent, false, "%" },
		{ "spool_free", t->spool_free_below != 0, r->spool_known, r->spool_free, t->spool_free_below, true, "" },
	};
	unsigned long long judged = 0;
	c[MALWARE].known = malware_share(r, t->malware_minutes, t->malware_min_messages, &c[MALWARE].value, &judged);
	const size_t n = sizeof(c) / sizeof(c[0]);
	size_t first = n;
	for (size_t i = 0; i < n; i++) {
		if (!c[i].named)
			continue;
		if (first == n)
			first = i;
		if (!c[i].known)
			continue;
		bool holds = c[i].below ? c[i].value < c[i].limit : c[i].value >= c[i].limit;
		if (holds) {
			snprintf(why, size, "%s %llu%s %s %llu%s", c[i].name, c[i].value, c[i].unit,
				 c[i].below ? "<" : ">=", c[i].limit, c[i].unit);
			return true;
		}
	}
	if (first == n)
		snprintf(why, size, "no condition");
	else if (first == MALWARE && !c[MALWARE].known)
		snprintf(why, size, "malware_share: %llu messages received, fewer than %u", judged, t->malware_min_messages);
	else if (!c[first].known)
		snprintf(why, size, "%s not measured", c[first].name);
	else
		snprintf(why, size, "%s %llu%s %s %llu%s", c[first].name, c[first].value, c[first].unit,
			 c[first].below ? ">=" : "<", c[first].limit, c[first].unit);
	return false;
}

/* A level's hysteresis, one step. */
static void step_level(struct trigger_level *l, const struct level_trigger *t, bool holds, int64_t now_ms)
{
	if (holds) {
		l->clear_since = 0;
		if (!l->held_since)
			l->held_since = now_ms;
		if (!l->active && now_ms - l->held_since >= (int64_t)t->hold_for * 1000)
			l->active = true;
	} else {
		l->held_since = 0;
		if (!l->clear_since)
			l->clear_since = now_ms;
		if (l->active && now_ms - l->clear_since >= (int64_t)t->clear_for * 1000)
			l->active = false;
	}
}

size_t trigger_step(struct trigger_state *s, const struct config *c, const struct trigger_reading *r,
		    int64_t now_ms)
{
	size_t top = 0;
	for (size_t n = 1; n < c->emergency.n_levels && n < CONFIG_LEVELS_MAX; n++) {
		const struct level_trigger *t = &c->emergency.levels[n].trigger;
		struct trigger_level *l = &s->lv[n];
		if (!t->set) {
			*l = (struct trigger_level){ 0 };
			continue;
		}
		bool holds = trigger_holds(t, r, l->why, sizeof(l->why));
		step_level(l, t, holds, now_ms);
		if (l->active)
			top = n;
	}
	return top;
}
