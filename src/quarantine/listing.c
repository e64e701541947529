/*
 * See listing.h.
 */
#include "quarantine/listing.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/schema.h"
#include "util/json.h"
#include "verdict/points.h"

bool listing_word_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool option_since(const char *arg, struct qindex_filter *f)
{
	unsigned long long secs;
	if (!schema_parse_duration(arg, &secs) || secs > (unsigned long long)time(NULL)) {
		fprintf(stderr, "mailwarden: quarantine list: --since %s: not a duration (90s, 15m, 2h, 30d)\n", arg);
		return false;
	}
	f->since = (uint64_t)time(NULL) - secs;
	return true;
}

static bool option_min_score(const char *arg, struct qindex_filter *f)
{
	if (points_parse(arg, strlen(arg), &f->min_score) != POINTS_OK) {
		fprintf(stderr, "mailwarden: quarantine list: --min-score %s: not a number (at most two decimals, "
				"e.g. 4.5)\n", arg);
		return false;
	}
	f->has_min_score = true;
	return true;
}

bool listing_options(int argc, char **argv, struct qindex_filter *f, bool *json)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },       { "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },    { "since", required_argument, NULL, 's' },
		{ "min-score", required_argument, NULL, 'm' }, { NULL, 0, NULL, 0 },
	};
	memset(f, 0, sizeof(*f));
	*json = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		bool ok = true;
		switch (opt) {
		case 'j': *json = true; break;
		case 'f': f->from = optarg; ok = listing_word_ok(optarg); break;
		case 't': f->to = optarg; ok = listing_word_ok(optarg); break;
		case 's': ok = option_since(optarg, f); break;
		case 'm': ok = option_min_score(optarg, f); break;
		default: return false;
		}
		if (!ok && (opt == 'f' || opt == 't'))
			fprintf(stderr, "mailwarden: quarantine list: %s: spaces and control characters are not "
					"searched for\n", optarg);
		if (!ok)
			return false;
	}
	return optind == argc;
}

bool listing_encode(const struct qindex_filter *f, bool json, char *line, size_t cap)
{
	char min[24] = "";
	if (f->has_min_score)
		snprintf(min, sizeof(min), " min=%d", f->min_score);
	int n = snprintf(line, cap, "quarantine list%s%s%s%s%s since=%" PRIu64 "%s", json ? " json" : "",
			 f->from ? " from=" : "", f->from ? f->from : "", f->to ? " to=" : "", f->to ? f->to : "",
			 f->since, min);
	return n > 0 && (size_t)n < cap;
}

/* A whole decimal number, no sign, within max. */
static bool number_of(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	*out = strtoull(s, &end, 10);
	return *end == '\0' && *out <= max;
}

/* Hundredths as an int, signed. */
static bool score_of(const char *s, int *out)
{
	bool neg = *s == '-';
	unsigned long long v;
	if (!number_of(s + neg, INT_MAX, &v))
		return false;
	*out = neg ? -(int)v : (int)v;
	return true;
}

bool listing_decode(char **words, size_t n, struct qindex_filter *f, bool *json)
{
	memset(f, 0, sizeof(*f));
	*json = false;
	for (size_t i = 0; i < n; i++) {
		const char *w = words[i];
		unsigned long long v;
		if (strcmp(w, "json") == 0)
			*json = true;
		else if (strncmp(w, "from=", 5) == 0)
			f->from = w + 5;
		else if (strncmp(w, "to=", 3) == 0)
			f->to = w + 3;
		else if (strncmp(w, "since=", 6) == 0 && number_of(w + 6, UINT64_MAX / 2, &v))
			f->since = v;
		else if (strncmp(w, "min=", 4) == 0 && score_of(w + 4, &f->min_score))
			f->has_min_score = true;
		else
			return false;
	}
	return true;
}

struct writer {
	FILE *out;
	bool json, first;
};

static void put_list(FILE *out, const char *csv)
{
	fputc('[', out);
	for (const char *p = csv; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *one = strndup(p, len);
		fputs(p == csv ? "" : ", ", out);
		json_put_str(out, one ? one : "");
		free(one);
		p += len + (comma != NULL);
	}
	fputc(']', out);
}

static void write_json(const struct qindex_row *r, struct writer *w)
{
	FILE *out = w->out;
	fprintf(out, "%s\n {\"id\": \"%s\", \"arrival\": %" PRIu64 ", \"direction\": \"%s\", \"client\": ",
		w->first ? "" : ",", r->id, r->arrival, r->direction);
	json_put_str(out, r->client);
	fputs(", \"sender\": ", out);
	json_put_str(out, r->sender);
	fputs(", \"recipients\": ", out);
	put_list(out, r->rcpts);
	fputs(", \"released_to\": ", out);
	put_list(out, r->released);
	char score[POINTS_TEXT_MAX];
	fprintf(out, ", \"score\": %s, \"verdict\": ", points_format(r->score, score, sizeof(score)));
	json_put_str(out, r->verdict);
	fputs(", \"subject\": ", out);
	json_put_str(out, r->subject);
	fputc('}', out);
}

static void write_text(const struct qindex_row *r, FILE *out)
{
	char when[32];
	time_t t = (time_t)r->arrival;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, "%s %s %s client=%s from=<%s> to=<", r->id, when, r->direction, r->client, r->sender);
	for (const char *p = r->rcpts; *p; p++)
		fputs(*p == ',' ? ">,<" : (char[2]){ *p, 0 }, out);
	fputc('>', out);
	if (r->released[0])
		fprintf(out, " released_to=%s", r->released);
	fprintf(out, " verdict=\"%s\" subject=\"", r->verdict);
	for (const unsigned char *p = (const unsigned char *)r->subject; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f || *p == '"' ? '?' : *p, out);  /* one line per message */
	fputs("\"\n", out);
}

static void write_row(const struct qindex_row *r, void *arg)
{
	struct writer *w = arg;
	if (w->json)
		write_json(r, w);
	else
		write_text(r, w->out);
	w->first = false;
}

bool listing_write(struct qindex *x, const struct qindex_filter *f, bool json, FILE *out)
{
	struct writer w = { out, json, true };
	if (json)
		fputc('[', out);
	bool ok = qindex_list(x, f, write_row, &w);
	if (json)
		fputs(w.first ? "]\n" : "\n]\n", out);
	return ok;
}
