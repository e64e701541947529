/*
 * Rules in SpamAssassin's format (content/rules.h; scan.rules), run on
 * what the MIME view offers: the raw message (full), the header section
 * (header), the decoded text parts (rawbody) and the rendered body —
 * Subject first, then each text part's paragraphs with their lines joined,
 * HTML with its tags taken out, within limits (body, content/body_text.h),
 * and the URLs in the text parts
 * (uri, content/uri.h). Each rule that hits is a symbol
 * with the rule's score. Policy key scan.<direction>.checks.rules; its
 * points are not used (the rules carry their own).
 *
 * Scores: SpamAssassin's are decimals and so are ours: a rule's score,
 * read in hundredths (content/rules.h), is the symbol's points as it is
 * (2.5 counts 2.5, -1.9 counts -1.9).
 */
#include <stdlib.h>
#include <string.h>

#include "content/authdns.h"
#include "content/body_text.h"
#include "content/check.h"
#include "content/html.h"
#include "content/job.h"
#include "content/mime.h"
#include "content/rules.h"
#include "content/uri.h"
#include "config/config.h"
#include "scan/policy.h"
#include "util/alloc.h"

#define RAWBODY_PART_MAX 500000

/* The pieces the rules match, kept in one growing list of strings. */
struct texts {
	char **s;
	size_t *len;
	size_t n, cap;
};

static void texts_add(struct texts *t, char *s, size_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->s = xreallocarray(t->s, t->cap, sizeof(*t->s));
		t->len = xreallocarray(t->len, t->cap, sizeof(*t->len));
	}
	t->s[t->n] = s;
	t->len[t->n++] = len;
}

static void texts_free(struct texts *t)
{
	free(t->s);
	free(t->len);
}

static void on_rule(void *arg, const char *name, int points, const char *describe)
{
	struct content_job *job = arg;
	content_hit_points(job, name, points, describe ? describe : name);
}

static void run(struct content_job *job, const char *msg, size_t len)
{
	if (!job->rules)
		return;
	const struct mime_message *m = content_job_mime(job, msg, len);
	size_t hlen = content_header_end(msg, len);
	struct body_text body = { 0 };
	struct texts raw = { 0 };
	struct html_view *html = xmalloc(sizeof(*html));
	html_view_init(html);
	char *subject = mime_header_text(msg, hlen, "Subject");
	if (subject)
		body_text_add(&body, subject, strlen(subject));
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mime_part *p = &m->parts[i];
		if (strncmp(p->type, "text/", 5) != 0 || !p->data)
			continue;
		/* rawbody rules see at most RAWBODY_PART_MAX bytes of a part
		 * (SpamAssassin's rawbody_part_scan_size): cost stays linear in
		 * a bound, not in a 16 MiB text part per rule. */
		texts_add(&raw, p->data, p->len < RAWBODY_PART_MAX ? p->len : RAWBODY_PART_MAX);
		bool is_html = strcmp(p->type, "text/html") == 0;
		body_text_add_part(&body, p->data, p->len, is_html);
		if (is_html)
			html_scan(html, p->data, p->len);
	}
	struct rules_input in = {
		.full = msg, .full_len = len, .header = msg, .header_len = hlen,
		.body = (const char *const *)body.s, .body_len = body.len, .n_body = body.n,
		.rawbody = (const char *const *)raw.s, .rawbody_len = raw.len, .n_rawbody = raw.n,
		.mime = m, .html = html, .subject = subject,
	};
	const struct uri_list *uris = content_job_uris(job, msg, len);
	size_t *uri_len = xreallocarray(NULL, uris->n ? uris->n : 1, sizeof(*uri_len));
	for (size_t i = 0; i < uris->n; i++)
		uri_len[i] = strlen(uris->uris[i]);
	in.uri = (const char *const *)uris->uris;
	in.uri_len = uri_len;
	in.n_uri = uris->n;
	/* The scores SpamAssassin's rule sets were tuned with for a setup like
	 * ours: without network tests, with Bayes once it answers (set 2). */
	in.score_set = content_job_bayes_ready(job) ? 2 : 0;
	const struct ipc_scan_request *req = content_job_envelope(job);
	in.envelope_from = req->sender;  /* "" in `mailwarden scan`: Return-Path */
	in.dkim = content_job_dkim(job, msg, len);             /* NULL unless keys were fetched */
	in.dkim_from_domain = in.dkim ? content_job_authdns(job)->from_domain : "";
	/* The gateway's own hand-over is judged by what smtpd knew of the client. */
	in.client_ip = req->client;
	in.client_trusted = req->outbound;
	const struct scan_config *sc = job->config ? job->config->scan : NULL;
	if (sc) {
		in.trusted_networks = &sc->trusted_networks;
		in.internal_networks = &sc->internal_networks;
	}
	rules_match(job->rules, &in, on_rule, job);
	free(uri_len);
	free(subject);
	free(html);
	body_text_free(&body);
	texts_free(&raw);
}

const struct content_check content_check_rules = {
	.name = "rules",
	.default_reply = "550 5.7.1 Message refused: content rules",
	.run = run,
};
