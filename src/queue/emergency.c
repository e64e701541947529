/*
 * Emergency levels at runtime (SCAN-11): see emergency.h.
 */
#include "queue/emergency.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "config/schema.h"
#include "state/levelstate.h"
#include "util/alloc.h"
#include "util/log.h"

#define LEVEL_FOR_MAX (365ULL * 86400)  /* --for at most a year */

struct emergency {
	const struct config *const *config;  /* the queue's current snapshot */
	emergency_tell_fn *tell;
	void *arg;
	struct level_state st;   /* the level in force, as saved */
	/* The level last switched by hand (or by its --for ending): the
	 * floor under the triggers (SCAN-11). automatic: st was raised by
	 * a trigger above it, and only a trigger lowers it again. */
	struct level_state manual;
	bool automatic;
	unsigned long manual_switches;   /* counts them: the triggers start their hold time again */
	emergency_status_fn *status_hook;
	void *status_arg;
	struct event *timer;     /* ends a level switched on --for a while */
	struct {                 /* the level being rehearsed */
		char name[LEVELSTATE_NAME_MAX + 1];   /* "": none */
		long long since;
		unsigned long long messages, differ;  /* judged; with another action */
		unsigned long long would[5];          /* refuse, discard, quarantine, tag, accept */
		char by[LEVELSTATE_BY_MAX + 1];
	} rehearsal;
};

static const char *const would_names[] = { "refuse", "discard", "quarantine", "tag", "accept" };

static const struct config *cfg(const struct emergency *em)
{
	return *em->config;
}

uint32_t emergency_level(const struct emergency *em)
{
	return (uint32_t)level_state_level(cfg(em), &em->st, time(NULL));
}

static const char *level_name(const struct config *c, size_t n)
{
	return c->emergency.levels[n].name;
}

/* "2026-12-07T07:40:00Z" */
static void iso_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%lld", t);
}

static void on_expiry(evutil_socket_t fd, short what, void *arg);

uint32_t emergency_rehearsing(const struct emergency *em)
{
	long n = em->rehearsal.name[0] ? config_level_find(cfg(em), em->rehearsal.name) : 0;
	return n > 0 ? (uint32_t)n : 0;
}

void emergency_rehearsed(struct emergency *em, const char *would)
{
	em->rehearsal.messages++;
	if (!would)
		return;
	em->rehearsal.differ++;
	for (size_t i = 0; i < sizeof(would_names) / sizeof(would_names[0]); i++)
		if (strcmp(would, would_names[i]) == 0)
			em->rehearsal.would[i]++;
}

/* Rehearse level n (0: end the rehearsal): told to every smtpd, logged;
 * the counts start again. */
static void rehearse(struct emergency *em, size_t n, const char *by, FILE *out)
{
	const struct config *c = cfg(em);
	memset(&em->rehearsal, 0, sizeof(em->rehearsal));
	if (n > 0) {
		snprintf(em->rehearsal.name, sizeof(em->rehearsal.name), "%s", level_name(c, n));
		em->rehearsal.since = time(NULL);
		snprintf(em->rehearsal.by, sizeof(em->rehearsal.by), "%s", by);
	}
	log_event(LOG_WARNING, "rehearsal", "name", n ? level_name(c, n) : "none", "emergency_level", log_u64(n),
		  "by", by, NULL);
	em->tell(em->arg, emergency_level(em), (uint32_t)n);
	if (n)
		fprintf(out, "rehearsing: %zu %s (level in force: %u %s)\n", n, level_name(c, n), emergency_level(em),
			level_name(c, emergency_level(em)));
	else
		fputs("rehearsing: nothing\n", out);
}

/* Make st (naming level n) the one in force: saved, logged (by and
 * reason: who switched and why, for the log line), told to every smtpd,
 * and ended by the timer at st->until (0: no end). out (or NULL) gets
 * the answer. */
static void enter(struct emergency *em, const struct level_state *st, size_t n, const char *by, const char *reason,
		  FILE *out)
{
	const struct config *c = cfg(em);
	size_t from = emergency_level(em);
	time_t now = time(NULL);
	long long secs = st->until > now ? st->until - now : 0;
	char why[512];

	em->st = *st;
	evtimer_del(em->timer);
	if (secs)
		evtimer_add(em->timer, &(struct timeval){ .tv_sec = (time_t)secs });
	log_event(LOG_WARNING, "level_switch", "from", level_name(c, from), "to", st->name, "emergency_level", log_u64(n),
		  "by", by, "for", log_u64((uint64_t)secs), "reason", reason, NULL);
	em->tell(em->arg, (uint32_t)n, emergency_rehearsing(em));
	if (!level_state_write(c->emergency.state_file, st, why, sizeof(why))) {
		log_event(LOG_ERR, "level_state_error", "msg", why, NULL);
		if (out)
			fprintf(out, "warning: level in force but not saved (%s): a restart returns to the saved one\n",
				why);
	}
	if (out)
		fprintf(out, "level: %zu %s (was %zu %s)\n", n, st->name, from, level_name(c, from));
}

/* Level n's state from now, ending after secs seconds (0: no end). */
static struct level_state state_of(const struct config *c, size_t n, unsigned long long secs, const char *reason,
				   const char *by)
{
	time_t now = time(NULL);
	struct level_state st = { .since = now, .until = secs ? now + (long long)secs : 0 };
	snprintf(st.name, sizeof(st.name), "%s", level_name(c, n));
	snprintf(st.by, sizeof(st.by), "%s", by);
	snprintf(st.reason, sizeof(st.reason), "%s", reason ? reason : "");
	return st;
}

/* A switch by hand (or the end of a --for): level n is in force and the
 * floor under the triggers. */
static void switch_to(struct emergency *em, size_t n, unsigned long long secs, const char *reason, const char *by,
		      FILE *out)
{
	struct level_state st = state_of(cfg(em), n, secs, reason, by);
	enter(em, &st, n, by, st.reason, out);
	em->manual = st;
	em->automatic = false;
	em->manual_switches++;
}

bool emergency_auto(struct emergency *em, size_t want, const char *why)
{
	const struct config *c = cfg(em);
	size_t cur = emergency_level(em);
	size_t floor = level_state_level(c, &em->manual, time(NULL));

	if (want >= c->emergency.n_levels)
		return false;
	if (!em->automatic && want <= cur)
		return false;  /* a level set by hand is never lowered by a trigger */
	size_t target = want > floor ? want : floor;
	if (target == cur)
		return false;
	if (target > floor) {
		struct level_state st = state_of(c, target, 0, why, EMERGENCY_BY_TRIGGER);
		enter(em, &st, target, EMERGENCY_BY_TRIGGER, why, NULL);
		em->automatic = true;
		return true;
	}
	/* Back to the floor: the level set by hand, as it was set (its
	 * since, until, by and reason), or level 0. */
	struct level_state st = floor > 0 ? em->manual : state_of(c, 0, 0, why, EMERGENCY_BY_TRIGGER);
	enter(em, &st, floor, EMERGENCY_BY_TRIGGER, why, NULL);
	em->automatic = false;
	return true;
}

bool emergency_automatic(const struct emergency *em)
{
	return em->automatic;
}

unsigned long emergency_manual_switches(const struct emergency *em)
{
	return em->manual_switches;
}

void emergency_set_status_hook(struct emergency *em, emergency_status_fn *fn, void *arg)
{
	em->status_hook = fn;
	em->status_arg = arg;
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct emergency *em = arg;
	char reason[LEVELSTATE_REASON_MAX + 1];
	snprintf(reason, sizeof(reason), "the time of level %s is over", em->st.name);
	switch_to(em, 0, 0, reason, "expiry", NULL);
}

struct emergency *emergency_new(struct event_base *base, const struct config *const *config,
				emergency_tell_fn *tell, void *arg)
{
	struct emergency *em = xcalloc(1, sizeof(*em));
	time_t now = time(NULL);
	em->config = config;
	em->tell = tell;
	em->arg = arg;
	em->timer = evtimer_new(base, on_expiry, em);
	level_state_read((*config)->emergency.state_file, &em->st);
	size_t n = level_state_level(*config, &em->st, now);
	/* A level a trigger raised stays until a trigger lowers it; the
	 * level set by hand beneath it is not kept across a restart. */
	em->automatic = n > 0 && strcmp(em->st.by, EMERGENCY_BY_TRIGGER) == 0;
	if (!em->automatic)
		em->manual = em->st;  /* else level 0: a zero state names no level */
	if (n > 0 && em->st.until > 0) {
		evtimer_add(em->timer, &(struct timeval){ .tv_sec = (time_t)(em->st.until - now) });
	} else if (n == 0 && config_level_find(*config, em->st.name) > 0) {
		/* Its time ran out while the gateway was stopped, or the
		 * configuration no longer has it. */
		char reason[LEVELSTATE_REASON_MAX + 1];
		snprintf(reason, sizeof(reason), "the time of level %s ran out while stopped", em->st.name);
		switch_to(em, 0, 0, reason, "expiry", NULL);
	} else if (n == 0 && config_level_find(*config, em->st.name) < 0) {
		log_event(LOG_WARNING, "level_unknown", "name", em->st.name, "msg",
			  "the saved level is not in the configuration: level 0 is in force", NULL);
	}
	log_event(LOG_INFO, "level", "emergency_level", log_u64(emergency_level(em)), "name",
		  level_name(*config, emergency_level(em)), NULL);
	return em;
}

void emergency_free(struct emergency *em)
{
	if (!em)
		return;
	event_free(em->timer);
	free(em);
}

static void list_levels(const struct config *c, FILE *out)
{
	fputs("levels:", out);
	for (size_t i = 0; i < c->emergency.n_levels; i++)
		fprintf(out, "%s %zu %s", i ? "," : "", i, level_name(c, i));
	fputc('\n', out);
}

static int status(const struct emergency *em, FILE *out)
{
	const struct config *c = cfg(em);
	size_t n = emergency_level(em);
	char t[32];

	fprintf(out, "level: %zu %s\n", n, level_name(c, n));
	if (em->st.since > 0) {
		iso_time(em->st.since, t, sizeof(t));
		fprintf(out, "since: %s\n", t);
	}
	if (n > 0 && em->st.until > 0) {
		iso_time(em->st.until, t, sizeof(t));
		fprintf(out, "until: %s\n", t);
	}
	if (em->st.by[0])
		fprintf(out, "by: %s\n", em->st.by);
	if (em->st.reason[0])
		fprintf(out, "reason: %s\n", em->st.reason);
	if (em->automatic) {
		size_t floor = level_state_level(c, &em->manual, time(NULL));
		fprintf(out, "set by hand: %zu %s (a trigger lowers the level back to it)\n", floor,
			level_name(c, floor));
	}
	if (em->status_hook)
		em->status_hook(em->status_arg, out);
	if (emergency_rehearsing(em)) {
		iso_time(em->rehearsal.since, t, sizeof(t));
		fprintf(out, "rehearsing: %u %s since %s by %s\n", emergency_rehearsing(em), em->rehearsal.name, t,
			em->rehearsal.by);
		fprintf(out, "rehearsal: %llu messages, %llu would have fared otherwise:", em->rehearsal.messages,
			em->rehearsal.differ);
		for (size_t i = 0; i < sizeof(would_names) / sizeof(would_names[0]); i++)
			fprintf(out, "%s %s %llu", i ? "," : "", would_names[i], em->rehearsal.would[i]);
		fputc('\n', out);
	}
	list_levels(c, out);
	return 0;
}

/* "level [N|NAME] [--for DURATION] [--reason TEXT]": the words after
 * "level" in args (modified); the reason is the rest of the line. */
static int level_command(struct emergency *em, char *args, uid_t uid, FILE *out)
{
	const struct config *c = cfg(em);
	const char *word = NULL, *reason = NULL;
	unsigned long long secs = 0;
	bool rehearsal = false;
	char *save = NULL, by[LEVELSTATE_BY_MAX + 1];

	for (char *w = strtok_r(args, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, "--reason") == 0) {
			reason = save && *save ? save : NULL;
			break;
		}
		if (strcmp(w, "--rehearse") == 0) {
			rehearsal = true;
		} else if (strcmp(w, "--for") == 0) {
			const char *d = strtok_r(NULL, " ", &save);
			if (!d || !schema_parse_duration(d, &secs) || secs == 0 || secs > LEVEL_FOR_MAX) {
				fputs("error: --for takes a duration from 1s to 365d (e.g. 90s, 15m, 2h)\n", out);
				return -1;
			}
		} else if (!word && w[0] != '-') {
			word = w;
		} else {
			fprintf(out, "error: usage: level [N|NAME] [--for DURATION] [--rehearse] [--reason TEXT]\n");
			return -1;
		}
	}
	if (!word)
		return status(em, out);
	long n = config_level_find(c, word);
	if (n < 0) {
		fprintf(out, "error: no emergency level \"%s\"\n", word);
		list_levels(c, out);
		return -1;
	}
	if (reason && strlen(reason) > LEVELSTATE_REASON_MAX) {
		fprintf(out, "error: --reason is longer than %d characters\n", LEVELSTATE_REASON_MAX);
		return -1;
	}
	snprintf(by, sizeof(by), "uid:%u", (unsigned)uid);
	if (rehearsal && secs) {
		fputs("error: a rehearsal runs until ended (level 0 --rehearse): --for does not go with it\n", out);
		return -1;
	}
	if (rehearsal) {
		rehearse(em, (size_t)n, by, out);
		return 0;
	}
	if (n == 0 && secs) {
		fputs("error: --for ends a level, and level 0 is where every level ends\n", out);
		return -1;
	}
	switch_to(em, (size_t)n, secs, reason, by, out);
	return 0;
}

int emergency_command(struct emergency *em, const char *line, uid_t uid, FILE *out)
{
	char buf[1024];
	if (strcmp(line, "status") == 0)
		return status(em, out);
	if (strncmp(line, "level", 5) != 0 || (line[5] != '\0' && line[5] != ' ') || strlen(line) >= sizeof(buf)) {
		fputs("error: emergency commands: status, level [N|NAME] [--for DURATION] [--rehearse] [--reason TEXT]\n",
		      out);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", line + 5);
	return level_command(em, buf, uid, out);
}
