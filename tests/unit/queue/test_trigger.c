/*
 * Emergency triggers' hysteresis (SCAN-11, queue/trigger.c) and the
 * counts they read (queue/load_gauge.c): up after "for", down after
 * "clear_for", nothing for a condition that comes and goes faster, the
 * highest active level wins.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "config/config.h"
#include "queue/load_gauge.h"
#include "queue/trigger.h"

static struct config_level levels[3];
static struct config cfg;

/* Level 1: queue_depth >= 10, level 2: sessions >= 5; for 2 s, clear_for 3 s. */
static void setup(void)
{
	memset(levels, 0, sizeof(levels));
	levels[0].name = "normal";
	levels[1].name = "backlog";
	levels[1].trigger = (struct level_trigger){ .set = true, .queue_depth = 10, .hold_for = 2, .clear_for = 3 };
	levels[2].name = "crowd";
	levels[2].trigger = (struct level_trigger){ .set = true, .sessions = 5, .hold_for = 2, .clear_for = 3 };
	memset(&cfg, 0, sizeof(cfg));
	cfg.emergency.levels = levels;
	cfg.emergency.n_levels = 3;
}

TestSuite(trigger, .init = setup);

/* Steps from ms to ms+len every 250 ms with r; the last level asked for. */
static size_t run(struct trigger_state *s, const struct trigger_reading *r, int64_t *ms, int64_t len)
{
	size_t lv = 0;
	for (int64_t end = *ms + len; *ms < end; *ms += 250)
		lv = trigger_step(s, &cfg, r, *ms);
	return lv;
}

Test(trigger, a_condition_raises_its_level_only_after_it_held_for_its_for_time)
{
	struct trigger_state s = { 0 };
	struct trigger_reading full = { .queue_depth = 10 };
	int64_t ms = 1000;
	cr_assert_eq(run(&s, &full, &ms, 2000), 0, "up before 2 s");
	cr_assert_eq(trigger_step(&s, &cfg, &full, ms), 1);
	cr_assert_str_eq(s.lv[1].why, "queue_depth 10 >= 10");
}

Test(trigger, a_raised_level_goes_down_only_after_clear_for)
{
	struct trigger_state s = { 0 };
	struct trigger_reading full = { .queue_depth = 50 }, empty = { .queue_depth = 2 };
	int64_t ms = 1000;
	run(&s, &full, &ms, 2250);
	cr_assert(s.lv[1].active);
	cr_assert_eq(run(&s, &empty, &ms, 3000), 1, "down before 3 s");
	cr_assert_eq(trigger_step(&s, &cfg, &empty, ms), 0);
	cr_assert_str_eq(s.lv[1].why, "queue_depth 2 < 10");
}

Test(trigger, a_condition_that_comes_and_goes_faster_than_for_and_clear_for_switches_nothing)
{
	struct trigger_state s = { 0 };
	struct trigger_reading full = { .queue_depth = 50 }, empty = { 0 };
	int64_t ms = 1000;
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(run(&s, &full, &ms, 1500), 0);
		cr_assert_eq(run(&s, &empty, &ms, 500), 0);
	}
	run(&s, &full, &ms, 2250);
	cr_assert(s.lv[1].active);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(run(&s, &empty, &ms, 2500), 1);
		cr_assert_eq(run(&s, &full, &ms, 250), 1);
	}
}

Test(trigger, the_highest_active_level_wins)
{
	struct trigger_state s = { 0 };
	struct trigger_reading both = { .queue_depth = 50, .sessions = 9 };
	int64_t ms = 1000;
	cr_assert_eq(run(&s, &both, &ms, 2250), 2);
	cr_assert(s.lv[1].active);
}

Test(trigger, free_space_holds_below_its_threshold_and_only_once_measured)
{
	struct level_trigger t = { .set = true, .spool_free_below = 1000 };
	struct trigger_reading r = { .spool_free = 10 };
	char why[TRIGGER_WHY_MAX];
	cr_assert_not(trigger_holds(&t, &r, why, sizeof(why)));
	cr_assert_str_eq(why, "spool_free not measured");
	r.spool_known = true;
	cr_assert(trigger_holds(&t, &r, why, sizeof(why)));
	cr_assert_str_eq(why, "spool_free 10 < 1000");
}

Test(trigger, the_malware_share_counts_its_window_and_needs_its_minimum_of_messages)
{
	struct level_trigger t = { .set = true, .malware_percent = 5, .malware_minutes = 2,
				   .malware_min_messages = 20 };
	struct trigger_reading r = { 0 };
	char why[TRIGGER_WHY_MAX];
	r.judged[0] = 10, r.malware[0] = 1;
	cr_assert_not(trigger_holds(&t, &r, why, sizeof(why)), "10 messages are too few");
	cr_assert_str_eq(why, "malware_share: 10 messages received, fewer than 20");
	r.judged[1] = 10;
	cr_assert(trigger_holds(&t, &r, why, sizeof(why)));
	cr_assert_str_eq(why, "malware_share 5% >= 5%");
	r.judged[2 * 60 / TRIGGER_SLICE + 1] = 1000;  /* outside the two minutes and the slice begun */
	cr_assert(trigger_holds(&t, &r, why, sizeof(why)));
}

Test(trigger, the_gauge_counts_the_last_sixty_seconds_and_minutes_by_age)
{
	static struct load_gauge g;
	struct trigger_reading r = { 0 };
	memset(&g, 0, sizeof(g));
	for (int64_t sec = 1000; sec < 1090; sec++) {
		load_gauge_received(&g, sec);
		if (sec % 10 == 0)
			load_gauge_malware(&g, sec);
	}
	load_gauge_read(&g, 1089, &r);
	cr_assert_eq(r.received_per_minute, 60);
	/* Slices of 10 s: [0] is 1080..1089, [8] 1000..1009, [9] before any. */
	for (size_t i = 0; i <= 8; i++) {
		cr_assert_eq(r.judged[i], 10, "slice %zu", i);
		cr_assert_eq(r.malware[i], 1, "slice %zu", i);
	}
	cr_assert_eq(r.judged[9], 0);
	load_gauge_read(&g, 1089 + 120, &r);
	cr_assert_eq(r.received_per_minute, 0);
	for (size_t i = 0; i < 12; i++)
		cr_assert_eq(r.judged[i], 0, "slice %zu is two minutes later", i);
	cr_assert_eq(r.judged[12], 10);
}
