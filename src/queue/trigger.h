/*
 * The automatic switching of emergency levels (SCAN-11), the pure part:
 * given what the queue measured (struct trigger_reading) and the time,
 * which level the triggers ask for. Hysteresis per level: a level's
 * trigger becomes active once one of its conditions has held without a
 * break for its "for" time, and inactive once all of them have been
 * clear without a break for its "clear_for" time; a condition that comes
 * and goes faster than that switches nothing. The highest active level
 * wins. No I/O, no clock of its own: unit-tested alone
 * (tests/unit/queue/test_trigger.c); queue/level_auto.h feeds it.
 */
#ifndef MW_QUEUE_TRIGGER_H
#define MW_QUEUE_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define TRIGGER_MINUTES_MAX 60      /* the longest malware_share window */
#define TRIGGER_SLICE 10            /* seconds: the malware share is counted in slices this long */
#define TRIGGER_SLICES (TRIGGER_MINUTES_MAX * 60 / TRIGGER_SLICE + 1)
#define TRIGGER_WHY_MAX 160

/* One sample of the measures. */
struct trigger_reading {
	unsigned long long queue_depth;          /* messages in the queue */
	unsigned long long received_per_minute;  /* messages received in the last 60 seconds */
	unsigned long long sessions;             /* SMTP sessions open in all smtpd processes */
	bool spool_known;                        /* spool_free was measured */
	unsigned long long spool_free;           /* bytes free for the queue user on the spool */
	/* Messages received, and those with a malware finding, per slice
	 * of TRIGGER_SLICE seconds: [0] the current one (begun), [1] the
	 * one before, ... A window of N minutes is the current slice and
	 * the N * 60 / TRIGGER_SLICE before it: N minutes, and up to one
	 * slice more, never less, whenever it is read. */
	unsigned judged[TRIGGER_SLICES], malware[TRIGGER_SLICES];
};

/* The hysteresis of one level. */
struct trigger_level {
	int64_t held_since, clear_since;   /* ms on the caller's clock; 0: not in such a run */
	bool active;
	char why[TRIGGER_WHY_MAX];          /* the condition that holds, or "" */
};

struct trigger_state {
	struct trigger_level lv[CONFIG_LEVELS_MAX];
};

/* Does t's condition hold for r? why (size bytes) gets the first that
 * holds with its measured value and threshold ("queue_depth 5120 >=
 * 5000"), or, when none holds, the first condition named with its value
 * ("queue_depth 12 < 5000"). */
bool trigger_holds(const struct level_trigger *t, const struct trigger_reading *r, char *why, size_t size);

/* One step at now_ms (monotonic milliseconds, > 0): every level of c
 * with a trigger is judged on r; the highest active level is returned
 * (0: none). A level's .active and .why say where it stands. */
size_t trigger_step(struct trigger_state *s, const struct config *c, const struct trigger_reading *r,
		    int64_t now_ms);

#endif
