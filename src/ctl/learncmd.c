/*
 * See learncmd.h.
 */
#include "ctl/learncmd.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "content/bayes.h"
#include "content/bayes_message.h"
#include "content/check.h"
#include "content/mime.h"
#include "content/uri.h"
#include "util/alloc.h"
#include "util/log.h"

#define MESSAGE_FILE_MAX (64u << 20)

enum mode { LEARN_NONE, LEARN_SPAM, LEARN_HAM, LEARN_FORGET };

struct learning {
	struct bayes_db *db;
	enum mode mode;
	unsigned long seen, changed;
	bool failed;
};

/* The synopsis: on stdout for --help, on stderr for a usage error. */
void learncmd_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden learn [-c FILE] --spam|--ham|--forget MESSAGE|MBOX|DIRECTORY...\n");
}

static int usage(void)
{
	learncmd_usage(stderr);
	return 2;
}

static void learn_one(struct learning *l, const char *msg, size_t len)
{
	struct mime_message m;
	mime_parse(msg, len, &mime_default_limits, &m);
	struct uri_list uris = { 0 };
	uri_extract_message(&m, &uris);
	struct bayes_tokens t;
	bayes_message_tokens(msg, len, &m, &uris, &t);
	uri_list_free(&uris);
	char id[512];
	bayes_message_identity(msg, len, id, sizeof(id));
	bool changed = false;
	if (!bayes_learn(l->db, id, &t, l->mode == LEARN_SPAM, l->mode == LEARN_FORGET, &changed))
		l->failed = true;
	l->seen++;
	l->changed += changed;
	bayes_tokens_free(&t);
	mime_free(&m);
}

/* An mbox: messages start at separator lines (the first line included);
 * ">From " lines inside are unescaped as mboxrd writes them. */
static void learn_mbox(struct learning *l, char *data, size_t len)
{
	size_t start = 0;
	while (start < len) {
		char *nl = memchr(data + start, '\n', len - start);
		size_t body = nl ? (size_t)(nl - data) + 1 : len;  /* past the separator */
		size_t end = body;
		while (end < len && !(data[end - 1] == '\n' && content_mbox_separator(data + end, len - end))) {
			char *next = memchr(data + end, '\n', len - end);
			end = next ? (size_t)(next - data) + 1 : len;
		}
		char *msg = xmalloc(end - body + 1);
		size_t n = 0;
		for (size_t i = body; i < end; i++) {
			if ((i == body || data[i - 1] == '\n') && data[i] == '>' && strncmp(data + i + 1, "From ", 5) == 0)
				continue;
			msg[n++] = data[i];
		}
		learn_one(l, msg, n);
		free(msg);
		start = end;
	}
}

static void learn_path(struct learning *l, const char *path, int depth);

static void learn_file(struct learning *l, const char *path, const struct stat *st)
{
	if ((uint64_t)st->st_size > MESSAGE_FILE_MAX) {
		fprintf(stderr, "mailwarden: learn %s: larger than 64 MiB, skipped\n", path);
		l->failed = true;
		return;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "mailwarden: learn %s: %s\n", path, strerror(errno));
		l->failed = true;
		return;
	}
	char *data = xmalloc((size_t)st->st_size + 1);
	size_t len = fread(data, 1, (size_t)st->st_size, f);
	data[len] = '\0';  /* the mbox scan compares past a line start */
	fclose(f);
	if (content_mbox_separator(data, len))
		learn_mbox(l, data, len);
	else
		learn_one(l, data, len);
	free(data);
}

static void learn_dir(struct learning *l, const char *path, int depth)
{
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "mailwarden: learn %s: %s\n", path, strerror(errno));
		l->failed = true;
		return;
	}
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		if (de->d_name[0] == '.')
			continue;
		char child[4096];
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		learn_path(l, child, depth + 1);
	}
	closedir(d);
}

/* Directories: their files, and one level of subdirectories (a maildir's
 * cur/ and new/); nothing deeper. */
static void learn_path(struct learning *l, const char *path, int depth)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "mailwarden: learn %s: %s\n", path, strerror(errno));
		l->failed = true;
	} else if (S_ISDIR(st.st_mode)) {
		if (depth < 2)
			learn_dir(l, path, depth);
	} else if (S_ISREG(st.st_mode)) {
		learn_file(l, path, &st);
	}
}

static enum mode parse_options(int argc, char **argv, const char **config)
{
	static const struct option longopts[] = {
		{ "spam", no_argument, NULL, 's' }, { "ham", no_argument, NULL, 'h' },
		{ "forget", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
	};
	enum mode mode = LEARN_NONE;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		enum mode m = opt == 's' ? LEARN_SPAM : opt == 'h' ? LEARN_HAM : opt == 'f' ? LEARN_FORGET : LEARN_NONE;
		if (opt == 'c')
			*config = optarg;
		else if (m == LEARN_NONE || mode != LEARN_NONE)
			return LEARN_NONE;  /* unknown, or two modes */
		else
			mode = m;
	}
	return optind < argc ? mode : LEARN_NONE;
}

int learncmd_main(int argc, char **argv)
{
	const char *path = NULL;
	enum mode mode = parse_options(argc, argv, &path);
	if (mode == LEARN_NONE)
		return usage();
	struct config *c = config_load_or_report(path);
	if (!c)
		return 1;
	log_init("learn", LOG_TARGET_STDERR, c->log.format, LOG_WARNING);
	char store[4200], why[512];
	snprintf(store, sizeof(store), "%s/%s", c->state_dir, BAYES_DB_NAME);
	config_free(c);
	struct learning l = { .mode = mode };
	if (!(l.db = bayes_db_open(store, why, sizeof(why)))) {
		fprintf(stderr, "mailwarden: learn: %s\n", why);
		return 1;
	}
	mime_prepare();
	for (int i = optind; i < argc; i++)
		learn_path(&l, argv[i], 0);
	unsigned long spam = 0, ham = 0;
	bayes_db_counts(l.db, &spam, &ham);
	printf("%s: %lu of %lu messages changed the store; it now holds %lu spam and %lu ham\n",
	       mode == LEARN_SPAM ? "spam" : mode == LEARN_HAM ? "ham" : "forget", l.changed, l.seen, spam, ham);
	bayes_db_close(l.db);
	if (l.failed)
		fprintf(stderr, "mailwarden: learn: some messages could not be learnt (see above)\n");
	return l.failed ? 1 : 0;
}
