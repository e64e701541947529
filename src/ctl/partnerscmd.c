/*
 * "mailwarden partners": see partnerscmd.h.
 */
#include "ctl/partnerscmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "state/partners.h"

#define IMPORT_LINE_MAX 1100  /* two addresses of 256 octets and CSV fields, with room */
#define IMPORT_BATCH 1000

/* The synopsis: on stdout for --help, on stderr for a usage error. */
void partnerscmd_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden partners [-c FILE] list | export | expire\n"
			"       mailwarden partners [-c FILE] add|remove INTERNAL EXTERNAL\n"
			"       mailwarden partners [-c FILE] import FILE|-\n");
}

static int usage(void)
{
	partnerscmd_usage(stderr);
	return 2;
}

static void iso_time(time_t t, char *out, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool print_row(const struct partner_row *r, void *arg)
{
	char first[32], last[32];
	(void)arg;
	iso_time(r->first_seen, first, sizeof(first));
	iso_time(r->last_seen, last, sizeof(last));
	printf("%s %s count=%lld first=%s last=%s\n", r->internal, r->external, r->count, first, last);
	return true;
}

static bool export_row(const struct partner_row *r, void *arg)
{
	(void)arg;
	printf("%s,%s,%s,%lld,%lld,%lld\n", r->internal, r->external, r->domain, (long long)r->first_seen,
	       (long long)r->last_seen, r->count);
	return true;
}

/* The two addresses of an import line, cut in place; false for a line
 * that holds no pair (blank, comment, the CSV header). */
static bool import_pair(char *line, char **internal, char **external)
{
	line[strcspn(line, "\r\n")] = 0;
	char *s = line + strspn(line, " \t");
	if (!*s || *s == '#' || strncmp(s, "internal,", 9) == 0)
		return false;
	*internal = s;
	s += strcspn(s, ", \t");
	if (!*s)
		return false;
	*s++ = 0;
	s += strspn(s, ", \t");
	*external = s;
	s[strcspn(s, ", \t")] = 0;
	return **external != 0;
}

/* Lines are read in batches of IMPORT_BATCH pairs, each batch one
 * transaction; a line too long for the buffer is an error (no pair is
 * that long). */
static int import(struct partners *p, FILE *in, const char *name)
{
	static char lines[IMPORT_BATCH][IMPORT_LINE_MAX];
	struct partner_pair batch[IMPORT_BATCH];
	size_t n = 0, lineno = 0, total = 0;
	bool eof = false;
	while (!eof) {
		eof = !fgets(lines[n], sizeof(lines[n]), in);
		if (!eof) {
			lineno++;
			if (!strchr(lines[n], '\n') && !feof(in)) {
				fprintf(stderr, "mailwarden partners: %s:%zu: line too long\n", name, lineno);
				return 1;
			}
			char *internal, *external;
			if (import_pair(lines[n], &internal, &external))
				batch[n++] = (struct partner_pair){ internal, external };
		}
		if (n == IMPORT_BATCH || (eof && n > 0)) {
			if (!partners_learn(p, batch, n, time(NULL)))
				return 1;
			total += n;
			n = 0;
		}
	}
	fprintf(stderr, "mailwarden partners: %zu pairs read from %s\n", total, name);
	return 0;
}

static int import_file(struct partners *p, const char *file)
{
	if (strcmp(file, "-") == 0)
		return import(p, stdin, "stdin");
	FILE *in = fopen(file, "r");
	if (!in) {
		perror(file);
		return 1;
	}
	int rc = import(p, in, file);
	fclose(in);
	return rc;
}

static int add_or_remove(struct partners *p, bool add, const char *internal, const char *external)
{
	if (!partners_domain(internal) || !partners_domain(external)) {
		fprintf(stderr, "mailwarden partners: both must be addresses (local@domain)\n");
		return 2;
	}
	if (add) {
		struct partner_pair pair = { internal, external };
		return partners_learn(p, &pair, 1, time(NULL)) ? 0 : 1;
	}
	int rc = partners_remove(p, internal, external);
	if (rc == 0)
		fprintf(stderr, "mailwarden partners: %s %s is no known pair\n", internal, external);
	return rc == 1 ? 0 : 1;
}

/* A verb with its number of words (the verb included), checked before
 * the configuration and the database are opened: a usage error is exit 2
 * whatever state the machine is in. */
static bool words_ok(int argc, char **argv)
{
	static const struct {
		const char *verb;
		int words;
	} verbs[] = { { "list", 1 }, { "export", 1 }, { "expire", 1 }, { "add", 3 }, { "remove", 3 }, { "import", 2 } };
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[0], verbs[i].verb) == 0)
			return argc == verbs[i].words;
	return false;
}

static int run(struct partners *p, const struct config *c, int argc, char **argv)
{
	const char *verb = argv[0];
	if (strcmp(verb, "list") == 0 && argc == 1)
		return partners_each(p, print_row, NULL) ? 0 : 1;
	if (strcmp(verb, "export") == 0 && argc == 1) {
		printf("internal,external,domain,first_seen,last_seen,count\n");
		return partners_each(p, export_row, NULL) ? 0 : 1;
	}
	if (strcmp(verb, "expire") == 0 && argc == 1) {
		long long n = partners_expire(p, time(NULL), c->emergency.partners.max_age);
		if (n >= 0)
			fprintf(stderr, "mailwarden partners: %lld pairs expired\n", n);
		return n >= 0 ? 0 : 1;
	}
	if ((strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0) && argc == 3)
		return add_or_remove(p, verb[0] == 'a', argv[1], argv[2]);
	if (strcmp(verb, "import") == 0 && argc == 2)
		return import_file(p, argv[1]);
	return usage();
}

int partnerscmd_main(int argc, char **argv)
{
	const char *path = NULL;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		path = argv[i + 1];
		i += 2;
	}
	if (i >= argc || !words_ok(argc - i, argv + i))
		return usage();
	struct config *c = config_load_or_report(path);
	if (!c)
		return 1;
	struct partners *p = partners_open(c->emergency.partners.file);
	int rc = p ? run(p, c, argc - i, argv + i) : 1;
	if (!p)
		fprintf(stderr, "mailwarden partners: cannot open %s\n", c->emergency.partners.file);
	partners_close(p);
	config_free(c);
	return rc;
}
