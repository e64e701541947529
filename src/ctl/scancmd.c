/*
 * See scancmd.h. One content job (content/job.h) per message file; the
 * verdict from its symbols with the direction's thresholds (verdict/).
 */
#include "ctl/scancmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "auth/authdb.h"
#include "config/config.h"
#include "content/bayes.h"
#include "content/check.h"
#include "content/job.h"
#include "content/rules.h"
#include "content/yara.h"
#include "scan/policy.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "verdict/points.h"
#include "verdict/verdict.h"

/* Read no message larger than the gateway would accept (plus room for
 * line ends a saved file may have in another form). */
#define SCAN_FILE_MAX (64u << 20)

struct options {
	const char *config;
	const char *auth;
	bool outbound, all, json, pcre_only;
};

struct hit {
	const char *check;
	char symbol[32];
	int points;          /* hundredths */
	bool refuse;         /* the check's policy refuses */
	char detail[200];
};

struct hits {
	struct hit items[IPC_SYMBOLS_MAX];
	size_t n;
};

/* The synopsis: on stdout for --help, on stderr for a usage error. */
void scancmd_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden scan [-c FILE] [--outbound] [--auth LOGIN] [--all] [--json] [--pcre-only] MESSAGE...\n");
}

static int usage(void)
{
	scancmd_usage(stderr);
	return 2;
}

static bool parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "outbound", no_argument, NULL, 'o' }, { "auth", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' },      { "json", no_argument, NULL, 'j' },
		{ "pcre-only", no_argument, NULL, 'P' }, { NULL, 0, NULL, 0 },
	};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config = optarg; break;
		case 'o': o->outbound = true; break;
		case 'a': o->auth = optarg; break;
		case 'A': o->all = true; break;
		case 'j': o->json = true; break;
		case 'P': o->pcre_only = true; break;
		default: return false;
		}
	}
	return optind < argc && (!o->auth || strlen(o->auth) < sizeof(((struct ipc_scan_request *)0)->auth));
}

static void on_hit(void *arg, const char *check, const char *symbol, int points, bool refuse, const char *detail)
{
	struct hits *h = arg;
	if (h->n >= IPC_SYMBOLS_MAX)
		return;
	struct hit *x = &h->items[h->n++];
	x->check = check;
	snprintf(x->symbol, sizeof(x->symbol), "%s", symbol);
	snprintf(x->detail, sizeof(x->detail), "%s", detail ? detail : "");
	x->points = points;
	x->refuse = refuse;
}

/* The policy the scan runs under: the configuration's for the direction
 * (its defaults without a scan: section), or every check on with --all. */
static void policy_of(const struct config *c, const struct options *o, struct scan_direction *d)
{
	const struct scan_config *sc = c->scan;
	if (sc)
		*d = o->outbound ? sc->outbound : sc->inbound;
	else
		scan_direction_defaults(d);
	for (size_t i = 0; o->all && i < content_n_checks; i++) {
		if (d->content[i].action == SCAN_CHECK_OFF) {
			d->content[i].action = SCAN_CHECK_SCORE;
			d->content[i].points = POINTS_ONE;
		}
	}
}

static char *read_message(const char *path, size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0) {
		*why = strerror(errno);
		if (f)
			fclose(f);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SCAN_FILE_MAX) {
		*why = S_ISREG(st.st_mode) ? "larger than 64 MiB" : "not a regular file";
		fclose(f);
		return NULL;
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	/* A saved message often starts with an mbox "From " line: not a header. */
	char *nl = content_mbox_separator(buf, *len) ? memchr(buf, '\n', *len) : NULL;
	if (nl) {
		size_t skip = (size_t)(nl - buf) + 1;
		memmove(buf, buf + skip, *len - skip);
		*len -= skip;
	}
	return buf;
}

static void print_text(const char *path, const struct verdict *v, const struct hits *h, const struct content_job *job)
{
	char pts[POINTS_TEXT_MAX];
	printf("%s: score %s, action %s%s%s\n", path, points_format(v->score, pts, sizeof(pts)),
	       verdict_action_name(v->action), v->forced_refuse ? ": " : "", v->forced_refuse ? v->refuse_reply : "");
	for (size_t i = 0; i < h->n; i++) {
		const struct hit *x = &h->items[i];
		if (x->refuse)
			printf("  %-26s refuse  %-16s %s\n", x->symbol, x->check, x->detail);
		else
			printf("  %-26s %6s  %-16s %s\n", x->symbol, points_format(x->points, pts, sizeof(pts)), x->check,
			       x->detail);
	}
	if (job->rewrite)
		printf("  (rewritten: %zu bytes would be stored)\n", job->rewrite_len);
}

static void print_json(const char *path, const struct verdict *v, const struct hits *h, const struct content_job *job)
{
	char pts[POINTS_TEXT_MAX];  /* points_format(): a JSON number, 2.5 */
	fputs("{\"file\": ", stdout);
	json_put_str(stdout, path);
	printf(", \"score\": %s, \"action\": \"%s\", \"refuse_reply\": ", points_format(v->score, pts, sizeof(pts)),
	       verdict_action_name(v->action));
	json_put_str(stdout, v->forced_refuse ? v->refuse_reply : "");
	printf(", \"rewritten\": %s, \"symbols\": [", job->rewrite ? "true" : "false");
	for (size_t i = 0; i < h->n; i++) {
		const struct hit *x = &h->items[i];
		fputs(i ? ", {\"symbol\": " : "{\"symbol\": ", stdout);
		json_put_str(stdout, x->symbol);
		fputs(", \"check\": ", stdout);
		json_put_str(stdout, x->check);
		printf(", \"points\": %s, \"refuse\": %s, \"detail\": ",
		       points_format(x->refuse ? 0 : x->points, pts, sizeof(pts)), x->refuse ? "true" : "false");
		json_put_str(stdout, x->detail);
		fputc('}', stdout);
	}
	fputs("]}\n", stdout);
}

/* What the checks read beside the message, loaded once for all files. */
struct scan_assets {
	const struct auth_db *senders;
	const struct rule_set *rules;
	const struct bayes_model *bayes;
	const struct yara_engine *yara;
};

/* One message: the checks, the verdict, the report. */
static bool scan_one(const char *path, const struct config *c, const struct scan_assets *a,
		     const struct scan_direction *dir, const struct options *o)
{
	const char *why = NULL;
	size_t len = 0;
	char *msg = read_message(path, &len, &why);
	if (!msg) {
		fprintf(stderr, "mailwarden: scan %s: %s\n", path, why);
		return false;
	}
	struct hits hits = { .n = 0 };
	struct content_job *job = xcalloc(1, sizeof(*job));
	job->config = c;
	job->senders = a->senders;
	job->rules = a->rules;
	job->bayes = a->bayes;
	job->yara = a->yara;
	job->dir = dir;
	job->req.outbound = o->outbound;
	job->req.size = len;
	snprintf(job->req.auth, sizeof(job->req.auth), "%s", o->auth ? o->auth : "");
	job->on_hit = on_hit;
	job->on_hit_arg = &hits;
	content_job_run(job, msg, len);
	struct verdict v;
	verdict_init(&v);
	for (uint32_t i = 0; i < job->result.n_symbols; i++)
		verdict_add(&v, job->result.symbols[i].name, job->result.symbols[i].points);
	if (job->result.refused)
		verdict_refuse(&v, job->result.reply);
	if (job->result.hold)
		verdict_hold(&v);
	struct verdict_thresholds t = { dir->tag, dir->quarantine, dir->discard, dir->refuse };
	verdict_decide(&v, &t);
	(o->json ? print_json : print_text)(path, &v, &hits, job);
	content_job_clear(job);
	free(job);
	free(msg);
	return true;
}

int scancmd_main(int argc, char **argv)
{
	struct options o = { 0 };
	if (!parse_options(argc, argv, &o))
		return usage();
	struct config *c = config_load_or_report(o.config);
	if (!c)
		return 1;
	/* The report is the output; the scanner's log lines would only repeat it. */
	log_init("scan", LOG_TARGET_STDERR, c->log.format, LOG_WARNING);
	char err[512];
	struct auth_db *senders = o.auth ? auth_db_load_senders(c, err, sizeof(err)) : NULL;
	if (o.auth && !senders) {
		fprintf(stderr, "mailwarden: scan: %s\n", err);
		config_free(c);
		return 1;
	}
	struct rule_set *rules = NULL;
	if (c->scan && c->scan->n_rules &&
	    !(rules = rules_load((const char *const *)c->scan->rules, c->scan->n_rules, err, sizeof(err)))) {
		fprintf(stderr, "mailwarden: scan: scan.rules: %s\n", err);
		auth_db_free(senders);
		config_free(c);
		return 1;
	}
	char store[4200];
	/* Hyperscan as the scanner runs them (issue 11), with its cache; or
	 * PCRE2 alone with --pcre-only, to compare the two. */
	snprintf(store, sizeof(store), "%s/%s", c->state_dir, RULES_CACHE_DIR);
	if (rules && !o.pcre_only && access(c->state_dir, W_OK) != 0)
		fprintf(stderr, "mailwarden: scan: no rule cache: state_dir %s is not a writable directory, so every "
				"run compiles the rules anew (seconds for a large set)\n", c->state_dir);
	if (rules && !o.pcre_only && !rules_compile_fast(rules, store, err, sizeof(err)))
		fprintf(stderr, "mailwarden: scan: %s\n", err);
	snprintf(store, sizeof(store), "%s/%s", c->state_dir, BAYES_DB_NAME);
	struct bayes_model *bayes = bayes_model_load(store, err, sizeof(err));
	if (!bayes && err[0])
		fprintf(stderr, "mailwarden: scan: %s (scanning without Bayes)\n", err);
	struct yara_engine *yara = NULL;
	if (c->scan && c->scan->yara && !(yara = yara_engine_load(c->scan->yara->rules, err, sizeof(err))))
		fprintf(stderr, "mailwarden: scan: scan.yara.rules: %s (scanning without YARA)\n", err);
	mime_prepare();
	struct scan_direction dir;
	policy_of(c, &o, &dir);
	struct scan_assets assets = { senders, rules, bayes, yara };
	int rc = 0;
	for (int i = optind; i < argc; i++)
		if (!scan_one(argv[i], c, &assets, &dir, &o))
			rc = 1;
	yara_engine_free(yara);
	bayes_model_free(bayes);
	rules_free(rules);
	auth_db_free(senders);
	config_free(c);
	return rc;
}
