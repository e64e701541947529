/*
 * See quarantine.h. Runs as a command-line tool, not in the daemon.
 */
#include "quarantine/quarantine.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "quarantine/listing.h"
#include "queue/envelope.h"
#include "util/alloc.h"
#include "util/log.h"


static int usage(void)
{
	fprintf(stderr, "usage: mailwarden quarantine [-c FILE] list [--json] [--from S] [--to S] [--since DURATION] "
			"[--min-score N]\n"
			"       mailwarden quarantine [-c FILE] show|release|delete QUEUE-ID\n");
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

/* Into released/, which the queue takes from once a second. */
static int cmd_release(int dir, const char *rdir, const char *id, const char **why)
{
	int rd = open(rdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (rd < 0 || renameat2(dir, id, rd, id, RENAME_NOREPLACE) < 0 || fsync(rd) < 0 || fsync(dir) < 0) {
		*why = strerror(errno);
		rc = 1;
	} else {
		printf("%s: released; the queue delivers it\n", id);
	}
	if (rd >= 0)
		close(rd);
	return rc;
}

static int cmd_delete(int dir, const char *id, const char **why)
{
	if (unlinkat(dir, id, 0) < 0 || fsync(dir) < 0) {
		*why = strerror(errno);
		return 1;
	}
	printf("%s: deleted\n", id);
	return 0;
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
	int at = optind;  /* listing_options() moves optind */
	const char *verb = argv[at];
	const char *id = at + 1 < argc ? argv[at + 1] : NULL;
	bool list = strcmp(verb, "list") == 0;
	struct listing_filter filter;
	if (list && !listing_options(argc - at, argv + at, &filter))
		return usage();
	if ((!list && (!id || at + 2 != argc)) ||
	    (!list && strcmp(verb, "show") != 0 && strcmp(verb, "release") != 0 && strcmp(verb, "delete") != 0))
		return usage();
	struct config *c = config_load_or_report(path);
	if (!c)
		return 1;
	bool echo = c->log.target == LOG_TARGET_STDERR;
	log_init("quarantine", c->log.target, c->log.format, c->log.level);
	char qdir[4200], rdir[4200];
	snprintf(qdir, sizeof(qdir), "%s/spool/quarantine", c->state_dir);
	snprintf(rdir, sizeof(rdir), "%s/spool/released", c->state_dir);
	config_free(c);
	if (list)
		id = NULL;
	if (id && !queue_id_valid(id)) {
		fprintf(stderr, "mailwarden: %s: not a queue id\n", id);
		audit(echo, verb, id, 2, "not a queue id");
		return 2;
	}
	const char *why = NULL;
	int rc = 1;
	int dir = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		why = strerror(errno);
	else if (list)
		rc = listing_print(dir, &filter);
	else if (strcmp(verb, "show") == 0)
		rc = cmd_show(dir, id, &why);
	else if (strcmp(verb, "release") == 0)
		rc = cmd_release(dir, rdir, id, &why);
	else
		rc = cmd_delete(dir, id, &why);
	if (why)
		fprintf(stderr, "mailwarden: %s %s: %s\n", verb, id ? id : qdir, why);
	audit(echo, verb, id, rc, why);
	if (dir >= 0)
		close(dir);
	return rc;
}
