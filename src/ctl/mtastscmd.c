/*
 * See mtastscmd.h. Runs as a command, no daemon involved.
 */
#include "ctl/mtastscmd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"

#define DEFAULT_MAX_AGE 604800u   /* a week: long enough to outlast an attack, short enough to change */

size_t mtastscmd_policy_text(const struct config *c, enum mtasts_mode mode, unsigned max_age, char *out, size_t cap)
{
	int n = snprintf(out, cap, "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %u\r\n", mtasts_mode_name(mode),
			 c->hostname, max_age);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static void print_domain(FILE *out, const char *domain, const char *id)
{
	if (domain[0] == '.') {
		fprintf(out, "# %s (every subdomain): not covered; publish per subdomain that receives mail\n",
			domain + 1);
		return;
	}
	fprintf(out, "_mta-sts.%s. IN TXT \"v=STSv1; id=%s;\"\n", domain, id);
	fprintf(out, "#   and https://mta-sts.%s/.well-known/mta-sts.txt serving the file above\n", domain);
}

void mtastscmd_print(FILE *out, const struct config *c, enum mtasts_mode mode, unsigned max_age, const char *id)
{
	char text[600];
	size_t len = mtastscmd_policy_text(c, mode, max_age, text, sizeof(text));
	fprintf(out, "# The policy file, served as text/plain over HTTPS with a certificate valid for\n"
		     "# mta-sts.<domain> (RFC 8461 3.3); the MX records must name %s:\n", c->hostname);
	fwrite(text, 1, len, out);
	fprintf(out, "\n# DNS, one TXT record per domain; give it a new id whenever the file changes:\n");
	for (size_t i = 0; i < c->n_local_domains; i++)
		print_domain(out, c->local_domains[i], id);
}

/* The synopsis: on stdout for --help, on stderr for a usage error. */
void mtastscmd_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden mta-sts [-c FILE] policy [--mode enforce|testing|none] "
			"[--max-age SECONDS]\n");
}

static int usage(void)
{
	mtastscmd_usage(stderr);
	return 2;
}

static bool parse_mode(const char *s, enum mtasts_mode *m)
{
	for (enum mtasts_mode k = MTASTS_NONE; k <= MTASTS_ENFORCE; k++)
		if (strcmp(s, mtasts_mode_name(k)) == 0) {
			*m = k;
			return true;
		}
	return false;
}

static bool parse_max_age(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || v == 0 || v > MTASTS_MAX_AGE_MAX)
		return false;
	*out = (unsigned)v;
	return true;
}

int mtastscmd_main(int argc, char **argv)
{
	const char *path = NULL;
	bool policy = false;
	enum mtasts_mode mode = MTASTS_ENFORCE;
	unsigned max_age = DEFAULT_MAX_AGE;
	for (int i = 1; i < argc; i++) {
		bool more = i + 1 < argc;
		if (strcmp(argv[i], "-c") == 0 && more)
			path = argv[++i];
		else if (strcmp(argv[i], "--mode") == 0 && more && parse_mode(argv[i + 1], &mode))
			i++;
		else if (strcmp(argv[i], "--max-age") == 0 && more && parse_max_age(argv[i + 1], &max_age))
			i++;
		else if (strcmp(argv[i], "policy") == 0 && !policy)
			policy = true;
		else
			return usage();
	}
	if (!policy)
		return usage();
	struct config *c = config_load_or_report(path);
	if (!c)
		return 1;
	char id[MTASTS_ID_MAX + 1];
	time_t now = time(NULL);
	struct tm tm;
	strftime(id, sizeof(id), "%Y%m%d%H%M%S", gmtime_r(&now, &tm));
	mtastscmd_print(stdout, c, mode, max_age, id);
	config_free(c);
	return 0;
}
