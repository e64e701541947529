/*
 * "mailwarden ctl": see levelctl.h.
 */
#include "ctl/levelctl.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/schema.h"
#include "ctl/lifecycle.h"
#include "ctl/queuectl.h"
#include "queue/control.h"
#include "util/log.h"

/* The synopsis: on stdout for --help, on stderr for a usage error. */
void levelctl_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden ctl [-c FILE] status\n"
			"       mailwarden ctl [-c FILE] reload\n"
			"       mailwarden ctl [-c FILE] stop\n"
			"       mailwarden ctl [-c FILE] level [N|NAME] [--for DURATION] [--rehearse] [--reason TEXT]\n");
}

static int usage(void)
{
	levelctl_usage(stderr);
	return 2;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void list_levels(const struct config *c)
{
	fprintf(stderr, "levels:");
	for (size_t i = 0; i < c->emergency.n_levels; i++)
		fprintf(stderr, "%s %zu %s", i ? "," : "", i, c->emergency.levels[i].name);
	fprintf(stderr, "\n");
}

struct level_args {
	const char *level, *duration, *reason;
	bool rehearse;
};

/* level's words (argv[from..]); false: a usage error. */
static bool parse_level(int argc, char **argv, int from, struct level_args *a)
{
	for (int i = from; i < argc; i++) {
		if (strcmp(argv[i], "--for") == 0 && i + 1 < argc && !a->duration)
			a->duration = argv[++i];
		else if (strcmp(argv[i], "--rehearse") == 0 && !a->rehearse)
			a->rehearse = true;
		else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc && !a->reason)
			a->reason = argv[++i];
		else if (argv[i][0] != '-' && !a->level)
			a->level = argv[i];
		else
			return false;
	}
	return true;
}

/* The control line for a level command, checked against c; 2 and a
 * message on a problem, else 0. */
static int level_line(const struct config *c, const struct level_args *a, char *line, size_t size)
{
	unsigned long long secs;
	if (a->level && config_level_find(c, a->level) < 0) {
		fprintf(stderr, "mailwarden ctl: no emergency level \"%s\" in %s\n", a->level, c->source);
		list_levels(c);
		return 2;
	}
	if (a->rehearse && (!a->level || a->duration)) {
		fprintf(stderr, "mailwarden ctl: --rehearse takes a level (0 ends the rehearsal), without --for\n");
		return 2;
	}
	if (a->duration && (!a->level || !schema_parse_duration(a->duration, &secs) || secs == 0)) {
		fprintf(stderr, "mailwarden ctl: --for takes a duration (e.g. 90s, 15m, 2h) after a level\n");
		return 2;
	}
	if (a->reason && (!printable(a->reason) || !a->reason[0])) {
		fprintf(stderr, "mailwarden ctl: --reason must be printable ASCII text\n");
		return 2;
	}
	int n = snprintf(line, size, "level%s%s%s%s%s%s%s", a->level ? " " : "", a->level ? a->level : "",
			 a->duration ? " --for " : "", a->duration ? a->duration : "", a->rehearse ? " --rehearse" : "",
			 a->reason ? " --reason " : "", a->reason ? a->reason : "");
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "mailwarden ctl: the command is too long\n");
		return 2;
	}
	return 0;
}

/* reload or stop (ctl/lifecycle.h), logged like every admin command. */
static int lifecycle_main(const char *path, const char *what)
{
	struct config *c = config_load_or_report(path);
	if (!c) {
		if (strcmp(what, "reload") == 0)
			fprintf(stderr, "mailwarden ctl: reload refused: the running configuration stays\n");
		return 1;
	}
	log_init("ctl", c->log.target, c->log.format, c->log.level);
	int rc = strcmp(what, "reload") == 0 ? lifecycle_reload(c) : lifecycle_stop(c);
	log_audit_admin(c->log.target == LOG_TARGET_STDERR, what, NULL, rc, rc ? "failed" : NULL);
	config_free(c);
	return rc;
}

int levelctl_main(int argc, char **argv)
{
	const char *path = NULL;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		path = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	if (strcmp(argv[i], "reload") == 0 || strcmp(argv[i], "stop") == 0)
		return i + 1 == argc ? lifecycle_main(path, argv[i]) : usage();
	bool status = strcmp(argv[i], "status") == 0;
	struct level_args a = { 0 };
	if (status ? i + 1 != argc : strcmp(argv[i], "level") != 0 || !parse_level(argc, argv, i + 1, &a))
		return usage();

	struct config *c = config_load_or_report(path);
	if (!c)
		return 1;
	char line[CONTROL_LINE_MAX];
	int rc = status ? (snprintf(line, sizeof(line), "status"), 0) : level_line(c, &a, line, sizeof(line));
	if (rc == 0) {
		bool echo = c->log.target == LOG_TARGET_STDERR;
		const char *why = NULL;
		log_init("ctl", c->log.target, c->log.format, c->log.level);
		rc = queuectl_send(c->state_dir, line, "ctl", &why);
		if (status && rc == 0)
			lifecycle_print_processes(stdout, c);
		if (!status)
			log_audit_admin(echo, line, NULL, rc, why);
	}
	config_free(c);
	return rc;
}
