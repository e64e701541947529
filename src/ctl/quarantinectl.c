/*
 * See quarantinectl.h. Runs as a command-line tool, not in the daemon.
 */
#include "ctl/quarantinectl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "ctl/queuectl.h"
#include "quarantine/listing.h"
#include "queue/control.h"
#include "queue/envelope.h"
#include "util/alloc.h"
#include "util/log.h"


/* The synopsis: on stdout for --help, on stderr for a usage error. */
void quarantine_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden quarantine [-c FILE] list [--json] [--from S] [--to S] [--since DURATION] "
			"[--min-score N]\n"
			"       mailwarden quarantine [-c FILE] show QUEUE-ID\n"
			"       mailwarden quarantine [-c FILE] release QUEUE-ID [--to ADDRESS]... [--by NAME]\n"
			"       mailwarden quarantine [-c FILE] delete QUEUE-ID [--by NAME]\n"
			"       mailwarden quarantine [-c FILE] digest --now [--by NAME]\n");
}

static int usage(void)
{
	quarantine_usage(stderr);
	return 2;
}

/* Read a quarantined file: the envelope and trailer, and the message
 * itself if all (from the envelope's end to the trailer). */
static unsigned char *read_message(int dir, const char *id, size_t *len, struct envelope *e, bool all)
{
	int fd = openat(dir, id, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (!envelope_read(fd, e)) {
		envelope_clear(e);
		close(fd);
		return NULL;
	}
	size_t n = all ? (size_t)(e->body_end - e->body_offset) : 0;
	unsigned char *buf = xmalloc(n + 1);
	ssize_t got = n ? pread(fd, buf, n, e->body_offset) : 0;
	close(fd);
	if (got != (ssize_t)n) {
		envelope_clear(e);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static void print_summary(const char *id, const struct envelope *e)
{
	char when[32];
	time_t t = (time_t)e->arrival;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %s client=%s from=<%s> to=", id, when, e->client ? e->client : "", e->sender);
	for (size_t i = 0; i < e->n_rcpts; i++)
		printf("%s<%s>", i ? "," : "", e->rcpts[i].addr);
	printf(" verdict=\"%s\"\n", e->verdict ? e->verdict : "");
}

/* Q-3, issue 16: every action is audited: who (the real uid), what, on
 * which message, and how it ended. */
static void audit(bool echo, const char *verb, const char *id, int rc, const char *why)
{
	char command[64];
	snprintf(command, sizeof(command), "quarantine %.40s", verb);
	log_audit_admin(echo, command, id ? id : "", rc, why);
}

static int cmd_show(int dir, const char *id, const char **why)
{
	struct envelope e;
	size_t len;
	unsigned char *buf = read_message(dir, id, &len, &e, true);
	if (!buf) {
		*why = "not in the quarantine";
		return 1;
	}
	print_summary(id, &e);
	printf("\n");
	fwrite(buf, 1, len, stdout);
	envelope_clear(&e);
	free(buf);
	return 0;
}

/* The options of release, delete and digest, appended to line as
 * control words (to=ADDR, by=NAME). False on a usage error. */
static bool action_options(int argc, char **argv, const char *verb, char *line, size_t cap)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' }, { "by", required_argument, NULL, 'b' },
		{ "now", no_argument, NULL, 'n' },       { NULL, 0, NULL, 0 },
	};
	bool release = strcmp(verb, "release") == 0, digest = strcmp(verb, "digest") == 0, now = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		size_t used = strlen(line);
		if (opt == 'n' && digest)
			now = true;
		else if (((opt == 't' && release) || opt == 'b') && listing_word_ok(optarg) && *optarg)
			snprintf(line + used, cap - used, " %s=%s", opt == 't' ? "to" : "by", optarg);
		else
			return false;
		if (strlen(line) + 1 >= cap)
			return false;
	}
	return optind == argc && (!digest || now);
}

/* The control line for argv (argv[0] the verb: list, release, delete
 * or digest). False: a usage error. */
static bool control_line(int argc, char **argv, char *line, size_t cap)
{
	const char *verb = argv[0];
	if (strcmp(verb, "list") == 0) {
		struct qindex_filter f;
		bool json;
		return listing_options(argc, argv, &f, &json) && listing_encode(&f, json, line, cap);
	}
	if (strcmp(verb, "digest") == 0) {
		snprintf(line, cap, "quarantine digest");
		return action_options(argc, argv, verb, line, cap);
	}
	if (strcmp(verb, "release") != 0 && strcmp(verb, "delete") != 0)
		return false;
	snprintf(line, cap, "quarantine %s %s", verb, argv[1]);
	return action_options(argc - 1, argv + 1, verb, line, cap);  /* argv[1], the id, stands in for argv[0] */
}

int quarantine_command(int argc, char **argv)
{
	const char *path = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "+c:")) != -1) {  /* "+": the verb's options are its own */
		if (opt != 'c')
			return usage();
		path = optarg;
	}
	if (optind >= argc)
		return usage();
	int at = optind;  /* the option parsers move optind */
	const char *verb = argv[at];
	bool show = strcmp(verb, "show") == 0, with_id = show || strcmp(verb, "release") == 0 ||
							 strcmp(verb, "delete") == 0;
	const char *id = with_id && at + 1 < argc ? argv[at + 1] : NULL;
	if (with_id && !id)
		return usage();
	char line[CONTROL_LINE_MAX + 1];
	bool bad_id = id && !queue_id_valid(id);
	if (!bad_id && (show ? at + 2 != argc : !control_line(argc - at, argv + at, line, sizeof(line))))
		return usage();
	struct config *c = config_load_or_report(path);
	if (!c)
		return 1;
	bool echo = c->log.target == LOG_TARGET_STDERR;
	log_init("quarantine", c->log.target, c->log.format, c->log.level);
	if (bad_id) {
		fprintf(stderr, "mailwarden: %s: not a queue id\n", id);
		config_free(c);
		audit(echo, verb, id, 2, "not a queue id");
		return 2;
	}
	const char *why = NULL;
	int rc = 1;
	if (show) {
		char qdir[4200];
		snprintf(qdir, sizeof(qdir), "%s/spool/quarantine", c->state_dir);
		int dir = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = dir < 0 ? (why = strerror(errno), 1) : cmd_show(dir, id, &why);
		if (why)
			fprintf(stderr, "mailwarden: show %s: %s\n", id, why);
		if (dir >= 0)
			close(dir);
	} else {
		rc = queuectl_send(c->state_dir, line, "quarantine", &why);
	}
	config_free(c);
	audit(echo, verb, id, rc, why);
	return rc;
}
