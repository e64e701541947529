/*
 * A level's automatic trigger (SCAN-11): see level_trigger.h. Written
 * inside the level's entry:
 *
 *   - name: flood
 *     limits: {connections: 200}
 *     trigger:
 *       queue_depth: 5000                 # messages in the queue
 *       received_per_minute: 3000         # messages received in the last minute
 *       sessions: 800                     # SMTP sessions open, all smtpd processes together
 *       malware_share: {percent: 5, minutes: 10, min_messages: 20}
 *       spool_free_below: 2G              # free space on the spool's file system
 *       for: 60s                          # a condition held this long raises the level
 *       clear_for: 5m                     # all clear this long lowers it again
 *
 * Any one condition raises the level; at least one must be named. The
 * values are read by the schema's own parsers (schema_set on a table of
 * this struct's fields), so they are written and reported like every
 * other number, size and duration of the configuration.
 */
#include "config/level_trigger.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/mapping.h"
#include "config/schema.h"

#define TRIGGER_HOLD_DEFAULT 60      /* seconds */
#define TRIGGER_CLEAR_DEFAULT 300
#define DAY (24U * 3600U)
#define T_OFF(field) offsetof(struct level_trigger, field)

/* The keys of trigger:, as schema entries whose offsets are in struct
 * level_trigger rather than struct config. */
static const struct schema_key trigger_keys[] = {
	{ "queue_depth", SCHEMA_UINT, 1, 100000000, T_OFF(queue_depth), NULL, NULL,
	  "messages in the queue (waiting, deferred or being delivered)" },
	{ "received_per_minute", SCHEMA_UINT, 1, 100000000, T_OFF(received_per_minute), NULL, NULL,
	  "messages received in the last 60 seconds (each when its data has come in whole)" },
	{ "sessions", SCHEMA_UINT, 1, 10000000, T_OFF(sessions), NULL, NULL,
	  "SMTP sessions open in all smtpd processes together" },
	{ "spool_free_below", SCHEMA_SIZE, 1, 1ULL << 50, T_OFF(spool_free_below), NULL, NULL,
	  "bytes free on the spool's file system, fewer than" },
	{ "for", SCHEMA_DURATION, 1, DAY, T_OFF(hold_for), NULL, NULL,
	  "how long a condition must hold before the level is raised" },
	{ "clear_for", SCHEMA_DURATION, 1, 7 * DAY, T_OFF(clear_for), NULL, NULL,
	  "how long every condition must be clear before the level is lowered" },
};

static const struct schema_key malware_keys[] = {
	{ "percent", SCHEMA_UINT, 1, 100, T_OFF(malware_percent), NULL, NULL,
	  "share of received messages with a malware finding, in percent, at least" },
	{ "minutes", SCHEMA_UINT, 1, 60, T_OFF(malware_minutes), NULL, NULL,
	  "the window the share is taken over" },
	{ "min_messages", SCHEMA_UINT, 1, 1000000, T_OFF(malware_min_messages), NULL, NULL,
	  "fewer messages received in the window: no share is taken (one infected mail on a quiet night)" },
};

#define N_KEYS(t) (sizeof(t) / sizeof((t)[0]))

static const struct schema_key *find_key(const struct schema_key *keys, size_t n, const char *k, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (loader_text_is(k, klen, keys[i].key))
			return &keys[i];
	return NULL;
}

/* One scalar value by its table entry into *t. */
static void set_value(struct loader *ld, const struct schema_key *sk, struct fy_node *v, const char *kname, int kl,
		      struct level_trigger *t)
{
	char problem[512];
	const char *s;
	size_t len;
	int line;
	if (loader_scalar(ld, v, kname, kl, &s, &len, &line) && !schema_set(sk, t, s, len, problem, sizeof(problem)))
		loader_err(ld, line, kname, "%s", problem);
}

/* The keys of a mapping v, each one of keys[]; what (the list of them)
 * names the allowed keys in the error for any other. */
struct trigger_map {
	const struct schema_key *keys;
	size_t n;
	const char *what;
	struct level_trigger *t;
};

static void load_map(struct loader *ld, struct fy_node *v, const char *name, int kline,
		     const struct schema_key *keys, size_t n, const char *what, struct level_trigger *t);

static void load_map_key(struct loader *ld, const char *k, size_t klen, struct fy_node *val, const char *kname,
			 int kl, void *ctx)
{
	const struct trigger_map *m = ctx;
	const struct schema_key *sk;
	if (m->keys == trigger_keys && loader_text_is(k, klen, "malware_share"))
		load_map(ld, val, kname, kl, malware_keys, N_KEYS(malware_keys), "percent, minutes, min_messages", m->t);
	else if ((sk = find_key(m->keys, m->n, k, klen)) != NULL)
		set_value(ld, sk, val, kname, kl, m->t);
	else
		loader_err(ld, kl, kname, "unknown key (%s)", m->what);
}

static void load_map(struct loader *ld, struct fy_node *v, const char *name, int kline,
		     const struct schema_key *keys, size_t n, const char *what, struct level_trigger *t)
{
	struct trigger_map m = { keys, n, what, t };
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping", &empty) || empty) {
		if (empty)
			loader_err(ld, kline, name, "must name at least one of: %s", what);
		return;
	}
	mapping_each(ld, v, name, kline, load_map_key, &m);
}

static bool names_a_condition(const struct level_trigger *t)
{
	return t->queue_depth || t->received_per_minute || t->sessions || t->malware_percent || t->spool_free_below;
}

void level_trigger_load(struct loader *ld, struct fy_node *v, const char *name, int kline, struct level_trigger *t)
{
	*t = (struct level_trigger){ .hold_for = TRIGGER_HOLD_DEFAULT, .clear_for = TRIGGER_CLEAR_DEFAULT,
				     .malware_minutes = 10, .malware_min_messages = 10, .line = kline };
	size_t before = ld->errs->n;
	load_map(ld, v, name, kline, trigger_keys, N_KEYS(trigger_keys),
		 "queue_depth, received_per_minute, sessions, malware_share, spool_free_below, for, clear_for", t);
	if (ld->errs->n != before)
		return;
	if (!names_a_condition(t)) {
		loader_err(ld, kline, name,
			   "names no condition (queue_depth, received_per_minute, sessions, malware_share, "
			   "spool_free_below)");
		return;
	}
	t->set = true;
}

/* Append to buf (size bytes, cut when full). */
static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/* "queue_depth >= 5000 or spool_free_below < 2G": each condition named,
 * its value written as the configuration writes it. */
static void describe_conditions(const struct level_trigger *t, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < N_KEYS(trigger_keys); i++) {
		const struct schema_key *k = &trigger_keys[i];
		char v[64];
		if (k->offset == T_OFF(hold_for) || k->offset == T_OFF(clear_for))
			continue;
		schema_format(k, t, v, sizeof(v));
		if (strcmp(v, "0") == 0)
			continue;
		append(buf, size, "%s%s %s %s", buf[0] ? " or " : "", k->key,
		       k->offset == T_OFF(spool_free_below) ? "<" : ">=", v);
	}
	if (t->malware_percent)
		append(buf, size, "%smalware_share >= %u%% (last %u minutes, %u messages at least)",
		       buf[0] ? " or " : "", t->malware_percent, t->malware_minutes, t->malware_min_messages);
}

void level_trigger_describe(const struct level_trigger *t, struct config_errors *out)
{
	char cond[512], hold[32], clear[32];
	if (!t->set)
		return;
	describe_conditions(t, cond, sizeof(cond));
	schema_format(find_key(trigger_keys, N_KEYS(trigger_keys), "for", 3), t, hold, sizeof(hold));
	schema_format(find_key(trigger_keys, N_KEYS(trigger_keys), "clear_for", 9), t, clear, sizeof(clear));
	config_errors_add(out, "  trigger: %s, held for %s; lowered when clear for %s", cond, hold, clear);
}
