/*
 * Emergency levels (SCAN-11, BSI M 5.109's emergency plan for overload):
 * see levels.h. A level is written like the configuration itself, with
 * only the keys it changes:
 *
 *   emergency:
 *     state_file: spool/emergency.state # the default; relative: to state_dir; the queue user writes it
 *     levels:
 *       - name: normal                  # a first entry without overrides names level 0
 *       - name: flood
 *         limits: {connections: 20, connections_per_ip: 2, message_size: 5M, recipients: 20}
 *         scan:
 *           inbound: {checks: {rdns: refuse, dnsbl: refuse}, tag: 3, quarantine: 6, refuse: 8}
 *         partners_only: inbound        # only known partners (smtp/partners_gate.h)
 *
 * What a level may change: every limits.* key, and what a section's owner
 * lets it merge (config/section.h level_merge: scan.inbound and
 * scan.outbound). Nothing that needs a restart (listeners, users,
 * state_dir) can be part of a level. Runs in the master (and the
 * configuration tools) before any fork; no I/O.
 */
#include "config/levels.h"
#include "config/level_trigger.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/mapping.h"
#include "config/schema.h"
#include "config/section.h"
#include "util/alloc.h"

#define LEVEL_NAME_MAX 32
#define LEVEL_STATE_FILE "spool/emergency.state"  /* the queue writes it: its own directory */

static const struct schema_enum partners_values[] = {
	{ "inbound", PARTNERS_ONLY_INBOUND }, { "outbound", PARTNERS_ONLY_OUTBOUND },
	{ "both", PARTNERS_ONLY_BOTH }, { NULL, 0 },
};

static const char *level_name_problem(const char *s, size_t len)
{
	if (len == 0 || len > LEVEL_NAME_MAX)
		return "must be 1 to " "32" " characters long";
	if (s[0] >= '0' && s[0] <= '9')
		return "must not start with a digit (numbers name levels by position)";
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return "use lower-case letters, digits, '_' and '-'";
	return NULL;
}

static void add_level(struct config *c, const char *name, size_t len, int line, const struct level_trigger *t)
{
	struct config_level *l;
	c->emergency.levels = xreallocarray(c->emergency.levels, c->emergency.n_levels + 1, sizeof(*l));
	l = &c->emergency.levels[c->emergency.n_levels++];
	*l = (struct config_level){ .name = xstrndup(name, len), .line = line };
	if (t)
		l->trigger = *t;
}

static bool name_taken(const struct config *c, const char *s, size_t len)
{
	for (size_t i = 0; i < c->emergency.n_levels; i++)
		if (loader_text_is(s, len, c->emergency.levels[i].name))
			return true;
	return false;
}

/* partners_only: inbound, outbound or both. */
static bool get_partners(struct loader *ld, struct fy_node *v, const char *name, int kline, enum partners_only *out)
{
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return false;
	for (const struct schema_enum *e = partners_values; e->name; e++)
		if (loader_text_is(s, len, e->name)) {
			*out = (enum partners_only)e->value;
			return true;
		}
	loader_err(ld, line, name, "must be one of: inbound, outbound, both");
	return false;
}

/* A levels[i] entry as it is read: its name (NULL until a good one is
 * read), whether it overrides anything and its trigger. */
struct level_entry {
	const char *name;
	size_t nlen;
	int nline;
	bool overrides;
	struct level_trigger trig;
};

static void load_entry_name(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct level_entry *e = field;
	const char *s, *why;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return;
	if ((why = level_name_problem(s, len)) != NULL) {
		loader_err(ld, line, name, "%s", why);
		return;
	}
	e->name = s;
	e->nlen = len;
	e->nline = line;
}

/* limits:, scan: checked key by key when the level is built
 * (levels_apply); here they only make the entry one that overrides. */
static void load_entry_override(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	*(bool *)field = true;
}

static void load_entry_partners(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	enum partners_only po;
	get_partners(ld, v, name, kline, &po);
	*(bool *)field = true;
}

static void load_entry_trigger(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	level_trigger_load(ld, v, name, kline, field);
}

#define E_OFF(member) offsetof(struct level_entry, member)
static const struct mapping_key entry_keys[] = {
	{ "name", load_entry_name, 0 },
	{ "limits", load_entry_override, E_OFF(overrides) },
	{ "scan", load_entry_override, E_OFF(overrides) },
	{ "partners_only", load_entry_partners, E_OFF(overrides) },
	{ "trigger", load_entry_trigger, E_OFF(trig) },
};

/* One entry's keys into *e; false if it has no good name. Every key
 * that is not a level's is reported. */
static bool read_entry(struct loader *ld, struct fy_node *item, const char *iname, int iline, struct level_entry *e)
{
	*e = (struct level_entry){ 0 };
	if (!(MAPPING_LOAD(ld, item, iname, iline, entry_keys, e) & MAPPING_BIT(entry_keys, "name")))
		loader_err(ld, iline, iname, "name is required");
	return e->name != NULL;
}

void levels_load(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct config *c = ld->cfg;
	struct fy_node *item;
	void *it = NULL;
	bool empty;
	int prev = kline;

	levels_free(c);
	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of levels", &empty) || empty)
		return;
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[LOADER_NAME_SIZE];
		struct level_entry e;

		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		prev = loader_line(item, prev);
		if (!loader_expect(ld, item, FYNT_MAPPING, iname, prev,
				   "a mapping (name, limits, scan, partners_only, trigger)", &empty) || empty) {
			if (empty)
				loader_err(ld, prev, iname, "name is required");
			continue;
		}
		if (!read_entry(ld, item, iname, prev, &e))
			continue;
		/* Level 0 is the configuration as written: a first entry
		 * that overrides nothing names it, else it is "normal".
		 * Level 0 is where every level returns: nothing raises it. */
		if (i == 0 && e.overrides)
			add_level(c, "normal", 6, 0, NULL);
		if (c->emergency.n_levels == 0 && e.trig.set) {
			loader_err(ld, e.trig.line, iname, "level 0 (the configuration as written) has no trigger");
			e.trig.set = false;
		}
		if (name_taken(c, e.name, e.nlen)) {
			loader_err(ld, e.nline, iname, "a level with this name is defined before");
			continue;
		}
		if (c->emergency.n_levels >= LEVELS_MAX) {
			loader_err(ld, prev, iname, "more than %d levels", LEVELS_MAX);
			return;
		}
		if (c->emergency.n_levels > 0 && ld->level == c->emergency.n_levels) {
			ld->level_entry = item;
			snprintf(ld->level_name, sizeof(ld->level_name), "%s", iname);
		}
		add_level(c, e.name, e.nlen, e.nline, &e.trig);
	}
}

/* A level's limits: each key as the schema's limits.KEY, set over the
 * value loaded from the file. */
static void apply_limit(struct loader *ld, const char *k, size_t klen, struct fy_node *val, const char *kname,
			int kl, void *ctx)
{
	char dotted[LOADER_NAME_SIZE], problem[512];
	const struct schema_key *sk;
	const char *s;
	size_t len;
	int line;

	snprintf(dotted, sizeof(dotted), "limits.%.*s", (int)klen, k);
	if (klen > LOADER_SHOW_MAX || !(sk = schema_find(dotted, strlen(dotted)))) {
		loader_err(ld, kl, kname, "unknown key");
		return;
	}
	if (!loader_scalar(ld, val, kname, kl, &s, &len, &line))
		return;
	if (!schema_set(sk, ld->cfg, s, len, problem, sizeof(problem)))
		loader_err(ld, line, kname, "%s", problem);
}

static void apply_limits(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	bool empty;
	if (loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping", &empty) && !empty)
		mapping_each(ld, v, name, kline, apply_limit, NULL);
}

static const struct config_section *mergeable_section(const char *k, size_t klen)
{
	for (const struct config_section *const *s = config_sections; *s; s++)
		if (loader_text_is(k, klen, (*s)->key) && (*s)->level_merge)
			return *s;
	return NULL;
}

/* One key of the active level's entry over the configuration; the
 * entry's keys were checked by read_entry, name and trigger are not
 * settings. */
static void apply_level_key(struct loader *ld, const char *k, size_t klen, struct fy_node *val, const char *kname,
			    int kl, void *ctx)
{
	const struct config_section *sec;
	if (loader_text_is(k, klen, "partners_only"))
		get_partners(ld, val, kname, kl, &ld->cfg->partners_only);
	else if (loader_text_is(k, klen, "limits"))
		apply_limits(ld, val, kname, kl);
	else if ((sec = mergeable_section(k, klen)) != NULL)
		sec->level_merge(ld, val, kname, kl);
}

void levels_apply(struct loader *ld)
{
	struct fy_node *entry = ld->level_entry;

	ld->level_entry = NULL;
	mapping_each(ld, entry, ld->level_name, 0, apply_level_key, NULL);
}

void levels_finish(struct loader *ld)
{
	struct config *c = ld->cfg;
	const char *dir = c->state_dir ? c->state_dir : ".";
	char *path;

	if (c->emergency.n_levels == 0)
		add_level(c, "normal", 6, 0, NULL);
	if (c->emergency.state_file && c->emergency.state_file[0] == '/')
		return;
	const char *file = c->emergency.state_file ? c->emergency.state_file : LEVEL_STATE_FILE;
	size_t n = strlen(dir) + strlen(file) + 2;
	path = xmalloc(n);
	snprintf(path, n, "%s/%s", dir, file);
	free(c->emergency.state_file);
	c->emergency.state_file = path;
}

void levels_free(struct config *c)
{
	for (size_t i = 0; i < c->emergency.n_levels; i++) {
		free(c->emergency.levels[i].name);
		config_unref(c->emergency.levels[i].cfg);
	}
	free(c->emergency.levels);
	c->emergency.levels = NULL;
	c->emergency.n_levels = 0;
}

const struct config *config_level(const struct config *c, size_t n)
{
	if (n >= c->emergency.n_levels)
		return n == 0 ? c : NULL;
	return n == 0 ? c : c->emergency.levels[n].cfg;
}

long config_level_find(const struct config *c, const char *word)
{
	unsigned long long n;
	bool overflow;
	if (schema_parse_number(word, strlen(word), &n, &overflow))
		return n < c->emergency.n_levels ? (long)n : -1;
	for (size_t i = 0; i < c->emergency.n_levels; i++)
		if (strcmp(word, c->emergency.levels[i].name) == 0)
			return (long)i;
	return -1;
}

/* The limits.* keys whose value differs in lv. */
static void describe_limits(const struct config *base, const struct config *lv, struct config_errors *out)
{
	for (size_t i = 0; i < schema_n_keys; i++) {
		const struct schema_key *k = &schema_keys[i];
		char was[64], now[64];
		if (strncmp(k->key, "limits.", 7) != 0)
			continue;
		schema_format(k, base, was, sizeof(was));
		schema_format(k, lv, now, sizeof(now));
		if (strcmp(was, now) != 0)
			config_errors_add(out, "  %s: %s -> %s", k->key, was, now);
	}
}

void config_levels_describe(const struct config *c, struct config_errors *out)
{
	config_errors_add(out, "level 0 %s: the configuration as written", c->emergency.levels[0].name);
	for (size_t n = 1; n < c->emergency.n_levels; n++) {
		const struct config *lv = c->emergency.levels[n].cfg;
		size_t before;
		config_errors_add(out, "level %zu %s:", n, c->emergency.levels[n].name);
		before = out->n;
		describe_limits(c, lv, out);
		for (const struct config_section *const *s = config_sections; *s; s++)
			if ((*s)->level_describe)
				(*s)->level_describe(c, lv, out);
		if (lv->partners_only != PARTNERS_ONLY_OFF)
			config_errors_add(out, "  partners_only: %s (strangers get 450 4.7.1)",
					  partners_values[lv->partners_only - 1].name);
		if (out->n == before)
			config_errors_add(out, "  (changes nothing)");
		level_trigger_describe(&c->emergency.levels[n].trigger, out);
	}
}
