/*
 * Rules in SpamAssassin's format (content/rules.h; scan.rules), run on
 * what the MIME view offers: the raw message (full), the header section
 * (header), the decoded text parts (rawbody) and the rendered body —
 * Subject first, then each text part's paragraphs with their lines joined,
 * HTML with its tags taken out (body), and the URLs in the text parts
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

#include <gmime/gmime.h>

#include "content/check.h"
#include "content/job.h"
#include "content/mime.h"
#include "content/rules.h"
#include "content/uri.h"
#include "util/alloc.h"

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

static void texts_free(struct texts *t, bool owned)
{
	for (size_t i = 0; owned && i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->len);
}

/* HTML to text, roughly: tags out, a few entities in (a real renderer
 * with links and hidden text comes later). Returns a new string. */
static char *strip_html(const char *s, size_t len, size_t *out_len)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&nbsp;", ' ' }, { "&#39;", '\'' },
	};
	char *out = xmalloc(len + 1);
	size_t o = 0;
	bool in_tag = false;
	for (size_t i = 0; i < len; i++) {
		if (in_tag) {
			in_tag = s[i] != '>';
			continue;
		}
		if (s[i] == '<') {
			in_tag = true;
			out[o++] = ' ';
			continue;
		}
		size_t e = 0;
		for (; s[i] == '&' && e < sizeof(ents) / sizeof(ents[0]); e++)
			if (len - i >= strlen(ents[e].ent) && strncasecmp(s + i, ents[e].ent, strlen(ents[e].ent)) == 0)
				break;
		if (s[i] == '&' && e < sizeof(ents) / sizeof(ents[0])) {
			out[o++] = ents[e].c;
			i += strlen(ents[e].ent) - 1;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* Paragraphs of text (split at empty lines), lines joined by a space. */
static void add_paragraphs(struct texts *body, const char *s, size_t len)
{
	char *para = xmalloc(len + 1);
	size_t p = 0;
	for (size_t i = 0; i <= len; i++) {
		bool end = i == len;
		bool blank_line = !end && s[i] == '\n' && (i + 1 == len || s[i + 1] == '\n' ||
							  (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n'));
		if (end || blank_line) {
			while (p && para[p - 1] == ' ')
				p--;
			if (p) {
				para[p] = '\0';
				texts_add(body, xstrdup(para), p);
			}
			p = 0;
			continue;
		}
		if (s[i] == '\r')
			continue;
		para[p++] = s[i] == '\n' ? ' ' : s[i];
	}
	free(para);
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
	struct texts body = { 0 }, raw = { 0 };
	size_t vlen;
	char *subject = content_header_unfold(msg, hlen, "Subject", &vlen);
	if (subject) {
		char *decoded = g_mime_utils_header_decode_text(NULL, subject);
		texts_add(&body, xstrdup(decoded ? decoded : subject), strlen(decoded ? decoded : subject));
		g_free(decoded);
		free(subject);
	}
	struct uri_list uris = { 0 };
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mime_part *p = &m->parts[i];
		if (strncmp(p->type, "text/", 5) != 0 || !p->data)
			continue;
		texts_add(&raw, p->data, p->len);
		uri_extract(p->data, p->len, strcmp(p->type, "text/html") == 0, &uris);
		if (strcmp(p->type, "text/html") == 0) {
			size_t tl;
			char *text = strip_html(p->data, p->len, &tl);
			add_paragraphs(&body, text, tl);
			free(text);
		} else {
			add_paragraphs(&body, p->data, p->len);
		}
	}
	struct rules_input in = {
		.full = msg, .full_len = len, .header = msg, .header_len = hlen,
		.body = (const char *const *)body.s, .body_len = body.len, .n_body = body.n,
		.rawbody = (const char *const *)raw.s, .rawbody_len = raw.len, .n_rawbody = raw.n,
	};
	size_t *uri_len = xreallocarray(NULL, uris.n ? uris.n : 1, sizeof(*uri_len));
	for (size_t i = 0; i < uris.n; i++)
		uri_len[i] = strlen(uris.uris[i]);
	in.uri = (const char *const *)uris.uris;
	in.uri_len = uri_len;
	in.n_uri = uris.n;
	rules_match(job->rules, &in, on_rule, job);
	free(uri_len);
	uri_list_free(&uris);
	texts_free(&body, true);
	texts_free(&raw, false);
}

const struct content_check content_check_rules = {
	.name = "rules",
	.default_reply = "550 5.7.1 Message refused: content rules",
	.run = run,
};
