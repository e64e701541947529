/*
 * See job.h; the functions content/check.h gives checks are here.
 */
#include "content/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authdb.h"
#include "config/config.h"
#include "content/bayes.h"
#include "scan/policy.h"
#include "content/check.h"
#include "content/strip.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"

static void add_symbol(struct ipc_scan_result *r, const char *symbol, int points)
{
	if (r->n_symbols >= IPC_SYMBOLS_MAX)
		return;
	struct ipc_symbol *s = &r->symbols[r->n_symbols++];
	snprintf(s->name, sizeof(s->name), "%s", symbol);
	s->points = points;
}

const struct ipc_scan_request *content_job_envelope(const struct content_job *job)
{
	return &job->req;
}

void content_malware_found(struct content_job *job)
{
	job->result.malware = true;
}

const struct config *content_job_config(const struct content_job *job)
{
	return job->config;
}

bool content_job_sender_ok(const struct content_job *job, const char *address)
{
	return job->req.auth[0] && job->senders && auth_db_sender_ok(job->senders, job->config, job->req.auth, address);
}

const struct mime_message *content_job_mime(struct content_job *job, const char *msg, size_t len)
{
	if (!job->mime_parsed) {
		mime_parse(msg, len, &mime_default_limits, &job->mime);
		job->mime_parsed = true;
	}
	return &job->mime;
}

bool content_job_bayes_ready(const struct content_job *job)
{
	if (!job->bayes)
		return false;
	unsigned long nspam, nham, min = job->config->scan ? job->config->scan->bayes_min_learned : 200;
	bayes_model_counts(job->bayes, &nspam, &nham);
	return nspam >= min && nham >= min;
}

const struct salvage *content_job_salvage(struct content_job *job, const char *msg, size_t len)
{
	if (!job->salvaged) {
		salvage_collect(msg, len, content_job_mime(job, msg, len), &job->salvage);
		job->salvaged = true;
	}
	return &job->salvage;
}

const struct uri_list *content_job_uris(struct content_job *job, const char *msg, size_t len)
{
	if (!job->uris_found) {
		uri_extract_message(content_job_mime(job, msg, len), &job->uris);
		job->uris_found = true;
	}
	return &job->uris;
}

/* The views were of the message as it was: a replacement or the end of
 * the job drops them. */
static void views_drop(struct content_job *job)
{
	if (job->mime_parsed)
		mime_free(&job->mime);
	job->mime_parsed = false;
	if (job->salvaged)
		salvage_free(&job->salvage);
	job->salvaged = false;
	if (job->uris_found)
		uri_list_free(&job->uris);
	job->uris_found = false;
}

const struct authdns *content_job_authdns(const struct content_job *job)
{
	return job->authdns;
}

const struct yara_engine *content_job_yara(const struct content_job *job)
{
	return job->yara;
}

const struct signkeys *content_job_dkim_keys(const struct content_job *job)
{
	return job->dkim_keys;
}

const struct dkimlib_verdict *content_job_dkim(struct content_job *job, const char *msg, size_t len)
{
	if (!job->authdns)
		return NULL;
	if (!job->dkim_verified) {
		dkimlib_verify(msg, len, job->authdns, &job->dkim);
		job->dkim_verified = true;
	}
	return &job->dkim;
}

void content_auth_result(struct content_job *job, const char *result)
{
	char *out = job->result.auth_results;
	size_t used = strlen(out), n = strlen(result), cap = sizeof(job->result.auth_results);
	if (n == 0 || strchr(result, ';') || !ipc_auth_results_ok(result) || used + n + 2 >= cap)
		return;
	snprintf(out + used, cap - used, "%s%s", used ? "; " : "", result);
}

/* fields appended to out (cap bytes, NUL-terminated); false: no room. */
static bool append_fields(char *out, size_t cap, const char *fields)
{
	size_t used = strlen(out), n = strlen(fields);
	if (used + n >= cap)
		return false;
	memcpy(out + used, fields, n + 1);
	return true;
}

bool content_add_headers(struct content_job *job, const char *fields)
{
	return append_fields(job->result.headers, sizeof(job->result.headers), fields);
}

bool content_add_release_headers(struct content_job *job, const char *fields)
{
	return append_fields(job->result.release_headers, sizeof(job->result.release_headers), fields);
}

const char *content_job_original(const struct content_job *job, size_t *len)
{
	*len = job->original_len;
	return job->original;
}

/* Log a hit of the running check (action: "score", "refuse", "hold")
 * and tell job->on_hit. */
static void report(struct content_job *job, const char *symbol, int points, const char *action, const char *detail)
{
	const char *check = content_checks[job->check]->name;
	/* log_event writes each line at once: safe from a worker thread. */
	log_event(LOG_INFO, "content_hit", "queue_id", job->req.queue_id, "check", check, "symbol", symbol, "action",
		  action, "auth", job->req.auth[0] ? job->req.auth : "-", "detail", detail, NULL);
	if (job->on_hit)
		job->on_hit(job->on_hit_arg, check, symbol, points, strcmp(action, "refuse") == 0, detail);
}

int content_check_points(const struct content_job *job)
{
	return job->dir->content[job->check].points;
}

enum scan_check_action content_check_action(const struct content_job *job)
{
	return job->dir->content[job->check].action;
}

void content_symbol(struct content_job *job, const char *symbol, int points, const char *detail)
{
	report(job, symbol, points, "score", detail);
	add_symbol(&job->result, symbol, points);
}

void content_hit(struct content_job *job, const char *symbol, int points, const char *detail)
{
	content_hit_points(job, symbol, points >= 0 ? points : job->dir->content[job->check].points, detail);
}

/* The message is refused with reply; the first refusal stands, but a
 * hit's refusal replaces a temporary failure (a 5xx is final). */
static void set_refusal(struct content_job *job, const char *reply)
{
	struct ipc_scan_result *r = &job->result;
	if (r->refused && !job->tempfailed)
		return;
	r->refused = true;
	job->tempfailed = false;
	snprintf(r->reply, sizeof(r->reply), "%s", reply);
}

/* Hold the message whatever its score (ipc_scan_result.hold). */
static void set_hold(struct content_job *job, const char *detail, bool malware)
{
	struct ipc_scan_result *r = &job->result;
	/* The first malware finding names the alarm; a policy hold never
	 * takes its place. */
	if (r->hold == IPC_HOLD_MALWARE || (r->hold == IPC_HOLD_POLICY && !malware))
		return;
	r->hold = malware ? IPC_HOLD_MALWARE : IPC_HOLD_POLICY;
	size_t n = 0;
	for (const char *p = detail; *p && n < sizeof(r->hold_detail) - 1; p++)
		r->hold_detail[n++] = *p >= ' ' && *p <= '~' ? *p : '?';
	r->hold_detail[n] = '\0';
}

/* Mark the current part for the strip action (once per part). */
static void strip_mark(struct content_job *job, const char *detail)
{
	for (size_t i = 0; i < job->n_strip; i++)
		if (job->strip[i].part == (size_t)job->part)
			return;
	if (job->n_strip == CONTENT_STRIP_MAX) {
		set_hold(job, "more parts to strip than the limit: the whole message is held", false);
		return;
	}
	struct content_strip_mark *m = &job->strip[job->n_strip++];
	m->part = (size_t)job->part;
	snprintf(m->reason, sizeof(m->reason), "%s", detail);
}

/* A hit under the strip action: the part goes, the symbol says so (no
 * points: what was found is not delivered). A hit that names no part of
 * the view (broken MIME's salvage) cannot be cut out safely: then the
 * whole message is held. */
static void strip_hit(struct content_job *job, const char *symbol, int scored, const char *detail)
{
	if (job->part < 0) {
		char why[400];
		snprintf(why, sizeof(why), "%s (not a part of the MIME structure: cannot be stripped, message held)",
			 detail);
		log_event(LOG_WARNING, "strip_impossible", "queue_id", job->req.queue_id, "check",
			  content_checks[job->check]->name, "symbol", symbol, "msg", why, NULL);
		content_hold(job, symbol, scored, why, false);
		return;
	}
	report(job, symbol, 0, "strip", detail);
	add_symbol(&job->result, symbol, 0);
	strip_mark(job, detail);
}

/* SCAN-11 rehearsal: the rehearsed level's action for the running check
 * would have refused or held where the level in force's does less. Only
 * these two are judged: they change what becomes of the message (its
 * points under the rehearsed level are not worked out again). */
static void rehearse_hit(struct content_job *job, enum scan_check_action acted, const char *symbol)
{
	static const int rank[] = { [SCAN_CHECK_OFF] = 0, [SCAN_CHECK_SCORE] = 0, [SCAN_CHECK_STRIP] = 1,
				    [SCAN_CHECK_QUARANTINE] = 2, [SCAN_CHECK_REFUSE] = 3 };
	enum scan_check_action would = job->rdir->content[job->check].action;
	if (rank[would] <= rank[acted] || rank[would] < 2)
		return;
	uint32_t r = would == SCAN_CHECK_REFUSE ? IPC_REHEARSED_REFUSE : IPC_REHEARSED_QUARANTINE;
	const char *name = content_checks[job->check]->name;
	log_event(LOG_INFO, "rehearsal", "queue_id", job->req.queue_id, "would",
		  r == IPC_REHEARSED_REFUSE ? "refuse" : "quarantine", "by", "content", "check", name, "symbol", symbol,
		  NULL);
	struct ipc_scan_result *res = &job->result;
	if (r > res->rehearsed) {
		res->rehearsed = r;
		snprintf(res->rehearsed_by, sizeof(res->rehearsed_by), "content.%s", name);
	}
}

/* A hit of the running check; reply: its refusal when the policy names
 * none. */
static void hit(struct content_job *job, const char *symbol, int scored, const char *detail, const char *reply)
{
	const struct scan_check_policy *pol = &job->dir->content[job->check];
	if (job->rdir)
		rehearse_hit(job, pol->action, symbol);
	switch (pol->action) {
	case SCAN_CHECK_REFUSE:
		report(job, symbol, scored, "refuse", detail);
		set_refusal(job, pol->reply ? pol->reply : reply);
		break;
	case SCAN_CHECK_QUARANTINE:
		content_hold(job, symbol, scored, detail, false);
		break;
	case SCAN_CHECK_STRIP:
		strip_hit(job, symbol, scored, detail);
		break;
	default:
		report(job, symbol, scored, "score", detail);
		add_symbol(&job->result, symbol, scored);
		break;
	}
}

void content_job_part(struct content_job *job, int index)
{
	job->part = index;
}

void content_hit_again(struct content_job *job, const char *detail)
{
	if (job->dir->content[job->check].action == SCAN_CHECK_STRIP && job->part >= 0)
		strip_mark(job, detail);
}

void content_hit_points(struct content_job *job, const char *symbol, int scored, const char *detail)
{
	hit(job, symbol, scored, detail, content_checks[job->check]->default_reply);
}

void content_hit_reply(struct content_job *job, const char *symbol, int points, const char *detail, const char *reply)
{
	hit(job, symbol, points >= 0 ? points : job->dir->content[job->check].points, detail, reply);
}

void content_refuse(struct content_job *job, const char *symbol, const char *detail, const char *reply)
{
	report(job, symbol, 0, "refuse", detail);
	set_refusal(job, reply);
}

void content_hold(struct content_job *job, const char *symbol, int points, const char *detail, bool malware)
{
	report(job, symbol, points, "hold", detail);
	add_symbol(&job->result, symbol, points);
	set_hold(job, detail, malware);
}

void content_tempfail(struct content_job *job, const char *reply)
{
	struct ipc_scan_result *r = &job->result;
	log_event(LOG_WARNING, "content_tempfail", "queue_id", job->req.queue_id, "check",
		  content_checks[job->check]->name, "reply", reply, NULL);
	if (r->refused)
		return;
	r->refused = true;
	job->tempfailed = true;
	snprintf(r->reply, sizeof(r->reply), "%s", reply);
}

bool content_replace(struct content_job *job, const char *msg, size_t len)
{
	if (len > job->req.size + IPC_SCAN_REWRITE_GROWTH)
		return false;
	char *copy = xmalloc(len + 1);  /* msg may point into the rewrite it replaces */
	memcpy(copy, msg, len);
	free(job->rewrite);
	job->rewrite = copy;
	job->rewrite_len = len;
	views_drop(job);
	return true;
}

/* The marked parts replaced by notices (content/strip.h), as one
 * rewrite. A message that cannot be rewritten safely is held whole. Runs
 * before the first check that cannot strip (rules, Bayes and the DKIM
 * signature see what is delivered) and at the end. */
static void strip_apply(struct content_job *job, const char *msg, size_t len)
{
	size_t n = job->n_strip;
	job->n_strip = 0;
	if (n == 0 || job->result.refused || job->result.hold)
		return;  /* the message is not delivered anyway */
	const struct scan_config *sc = job->config->scan;
	const char *tmpl = sc && sc->strip_notice ? sc->strip_notice : STRIP_NOTICE_DEFAULT;
	char (*texts)[STRIP_NOTICE_MAX] = xcalloc(n, STRIP_NOTICE_MAX);
	struct strip_part parts[CONTENT_STRIP_MAX];
	const struct mime_message *m = content_job_mime(job, msg, len);
	for (size_t i = 0; i < n; i++) {
		size_t p = job->strip[i].part;
		char label[32];
		snprintf(label, sizeof(label), "part %zu", p + 1);
		const char *name = p < m->n_parts && m->parts[p].filename ? m->parts[p].filename : label;
		strip_notice_fill(tmpl, name, job->strip[i].reason, job->req.queue_id, texts[i], STRIP_NOTICE_MAX);
		parts[i] = (struct strip_part){ p, texts[i] };
	}
	size_t out_len = 0;
	char *out = strip_parts(msg, len, parts, n, &out_len);
	bool ok = out && content_replace(job, out, out_len);
	log_event(ok ? LOG_INFO : LOG_WARNING, ok ? "stripped" : "strip_failed", "queue_id", job->req.queue_id,
		  "parts", log_u64(n), "size", log_u64(len), "new_size", log_u64(ok ? out_len : 0), "action",
		  ok ? "deliver_stripped" : "hold", NULL);
	if (ok)
		job->stripped = true;
	else
		set_hold(job, "the parts to strip could not be removed safely: the whole message is held", false);
	free(out);
	free(texts);
}

void content_job_run(struct content_job *job, const char *msg, size_t len)
{
	job->original = msg;
	job->original_len = len;
	for (job->check = 0; job->check < content_n_checks; job->check++) {
		const struct content_check *c = content_checks[job->check];
		if (job->dir->content[job->check].action == SCAN_CHECK_OFF || (c->auth_only && !job->req.auth[0]))
			continue;
		if (job->n_strip && !c->can_strip)
			strip_apply(job, job->rewrite ? job->rewrite : msg, job->rewrite ? job->rewrite_len : len);
		job->part = -1;
		uint64_t started = metrics_now_us();
		c->run(job, job->rewrite ? job->rewrite : msg, job->rewrite ? job->rewrite_len : len);
		metrics_check_us(job->check, metrics_now_us() - started);
	}
	strip_apply(job, job->rewrite ? job->rewrite : msg, job->rewrite ? job->rewrite_len : len);
}

void content_job_clear(struct content_job *job)
{
	free(job->rewrite);
	job->rewrite = NULL;
	job->n_strip = 0;
	job->stripped = false;
	job->original = NULL;
	job->original_len = 0;
	bayes_tokens_free(&job->learn_tokens);
	views_drop(job);
}
