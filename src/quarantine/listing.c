/*
 * See listing.h.
 */
#include "quarantine/listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>


#include "config/schema.h"
#include "content/check.h"
#include "content/mime.h"
#include "queue/envelope.h"
#include "util/alloc.h"
#include "util/json.h"
#include "verdict/points.h"

/* Where a Subject is looked for: the first 64 KiB of the message. */
#define HEAD_MAX (64u << 10)
#define SUBJECT_MAX 200

struct entry {
	char id[QUEUE_ID_LEN + 1];
	struct envelope env;
	char subject[SUBJECT_MAX + 1];
	int score;               /* hundredths */
	bool readable;
};

/* The decoded Subject of the message in fd, cut to SUBJECT_MAX bytes. */
static void read_subject(int fd, const struct envelope *e, char *out)
{
	out[0] = '\0';
	size_t want = (size_t)(e->body_end - e->body_offset) < HEAD_MAX ? (size_t)(e->body_end - e->body_offset) : HEAD_MAX;
	char *head = xmalloc(want + 1);
	ssize_t got = pread(fd, head, want, e->body_offset);
	if (got > 0) {
		char *text = mime_header_text(head, content_header_end(head, (size_t)got), "Subject");
		if (text)
			snprintf(out, SUBJECT_MAX + 1, "%s", text);
		free(text);
	}
	free(head);
}

/* The verdict record is "ACTION SCORE SYMBOLS": its score, in hundredths.
 * Records written before points had decimals hold whole numbers, which
 * read the same; one that does not parse counts 0. */
static int score_of(const char *verdict)
{
	const char *sp = verdict ? strchr(verdict, ' ') : NULL;
	int score = 0;  /* points_parse() leaves it alone on failure */
	if (sp) {
		const char *end = strchr(sp + 1, ' ');
		points_parse(sp + 1, end ? (size_t)(end - sp - 1) : strlen(sp + 1), &score);
	}
	return score;
}

static void load_entry(int dir, const char *id, struct entry *x)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->id, sizeof(x->id), "%.*s", QUEUE_ID_LEN, id);
	int fd = openat(dir, id, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (envelope_read(fd, &x->env)) {
		x->readable = true;
		x->score = score_of(x->env.verdict);
		read_subject(fd, &x->env, x->subject);
	} else {
		envelope_clear(&x->env);
	}
	close(fd);
}

static bool wanted(const struct entry *x, const struct listing_filter *f)
{
	if (!x->readable)
		return !f->from && !f->to && !f->since && !f->has_min_score;
	if (f->from && !strcasestr(x->env.sender, f->from))
		return false;
	bool to = !f->to;
	for (size_t i = 0; !to && i < x->env.n_rcpts; i++)
		to = strcasestr(x->env.rcpts[i].addr, f->to) != NULL;
	return to && x->env.arrival >= f->since && (!f->has_min_score || x->score >= f->min_score);
}

static int by_arrival(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->env.arrival != y->env.arrival)
		return x->env.arrival < y->env.arrival ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void print_text(const struct entry *x)
{
	if (!x->readable) {
		printf("%s (unreadable)\n", x->id);
		return;
	}
	char when[32];
	time_t t = (time_t)x->env.arrival;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %s client=%s from=<%s> to=", x->id, when, x->env.client ? x->env.client : "", x->env.sender);
	for (size_t i = 0; i < x->env.n_rcpts; i++)
		printf("%s<%s>", i ? "," : "", x->env.rcpts[i].addr);
	printf(" verdict=\"%s\" subject=\"", x->env.verdict ? x->env.verdict : "");
	for (const unsigned char *p = (const unsigned char *)x->subject; *p; p++)
		putchar(*p < 0x20 || *p == 0x7f || *p == '"' ? '?' : *p);  /* one line per message */
	printf("\"\n");
}

static void print_json(const struct entry *x, bool first)
{
	printf("%s\n {\"id\": \"%s\", \"readable\": %s", first ? "" : ",", x->id, x->readable ? "true" : "false");
	if (x->readable) {
		printf(", \"arrival\": %llu, \"client\": ", (unsigned long long)x->env.arrival);
		json_put_str(stdout, x->env.client);
		fputs(", \"sender\": ", stdout);
		json_put_str(stdout, x->env.sender);
		fputs(", \"recipients\": [", stdout);
		for (size_t i = 0; i < x->env.n_rcpts; i++) {
			fputs(i ? ", " : "", stdout);
			json_put_str(stdout, x->env.rcpts[i].addr);
		}
		char score[POINTS_TEXT_MAX];
		printf("], \"score\": %s, \"verdict\": ", points_format(x->score, score, sizeof(score)));
		json_put_str(stdout, x->env.verdict);
		fputs(", \"subject\": ", stdout);
		json_put_str(stdout, x->subject);
	}
	fputc('}', stdout);
}

int listing_print(int dir, const struct listing_filter *f)
{
	DIR *d = fdopendir(dup(dir));
	if (!d)
		return 1;
	struct entry *list = NULL;
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		if (!queue_id_valid(de->d_name))
			continue;
		list = xreallocarray(list, n + 1, sizeof(*list));
		load_entry(dir, de->d_name, &list[n++]);
	}
	closedir(d);
	qsort(list, n, sizeof(*list), by_arrival);
	if (f->json)
		fputs("[", stdout);
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (wanted(&list[i], f)) {
			if (f->json)
				print_json(&list[i], first);
			else
				print_text(&list[i]);
			first = false;
		}
		envelope_clear(&list[i].env);
	}
	if (f->json)
		fputs(first ? "]\n" : "\n]\n", stdout);
	free(list);
	return 0;
}

bool listing_options(int argc, char **argv, struct listing_filter *f)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },       { "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },    { "since", required_argument, NULL, 's' },
		{ "min-score", required_argument, NULL, 'm' }, { NULL, 0, NULL, 0 },
	};
	memset(f, 0, sizeof(*f));
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned long long secs;
		switch (opt) {
		case 'j': f->json = true; break;
		case 'f': f->from = optarg; break;
		case 't': f->to = optarg; break;
		case 's':
			if (!schema_parse_duration(optarg, &secs) || secs > (unsigned long long)time(NULL)) {
				fprintf(stderr, "mailwarden: quarantine list: --since %s: not a duration (90s, 15m, 2h, 30d)\n",
					optarg);
				return false;
			}
			f->since = (uint64_t)time(NULL) - secs;
			break;
		case 'm':
			if (points_parse(optarg, strlen(optarg), &f->min_score) != POINTS_OK) {
				fprintf(stderr, "mailwarden: quarantine list: --min-score %s: not a number (at most two "
					"decimals, e.g. 4.5)\n", optarg);
				return false;
			}
			f->has_min_score = true;
			break;
		default:
			return false;
		}
	}
	return optind == argc;
}
