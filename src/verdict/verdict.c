/*
 * See verdict.h.
 */
#include "verdict/verdict.h"

#include <stdio.h>
#include <string.h>

#include "verdict/points.h"

void verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
}

void verdict_add(struct verdict *v, const char *name, int points)
{
	v->score += points;
	if (v->n >= VERDICT_SYMBOLS_MAX)
		return;
	struct verdict_symbol *s = &v->symbols[v->n++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->points = points;
}

void verdict_refuse(struct verdict *v, const char *reply)
{
	v->forced_refuse = true;
	snprintf(v->refuse_reply, sizeof(v->refuse_reply), "%s", reply);
}

void verdict_hold(struct verdict *v)
{
	v->forced_hold = true;
}

enum verdict_action verdict_decide(struct verdict *v, const struct verdict_thresholds *t)
{
	int score = 0;
	for (size_t i = 0; i < v->n; i++)
		score += v->symbols[i].points;
	if (v->n == VERDICT_SYMBOLS_MAX && v->score > score)
		score = v->score;  /* symbols beyond the table still counted in verdict_add */
	v->score = score;
	struct { int at; enum verdict_action a; } steps[] = {
		{ t->tag, VERDICT_TAG }, { t->quarantine, VERDICT_QUARANTINE },
		{ t->discard, VERDICT_DISCARD }, { t->refuse, VERDICT_REFUSE },
	};
	enum verdict_action a = VERDICT_ACCEPT;
	int best = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i].at > 0 && score >= steps[i].at && steps[i].at >= best) {
			best = steps[i].at;
			a = steps[i].a;
		}
	if (v->forced_hold)
		a = VERDICT_QUARANTINE;
	if (v->forced_refuse)
		a = VERDICT_REFUSE;
	v->action = a;
	return a;
}

const char *verdict_action_name(enum verdict_action a)
{
	switch (a) {
	case VERDICT_ACCEPT: return "accept";
	case VERDICT_TAG: return "tag";
	case VERDICT_QUARANTINE: return "quarantine";
	case VERDICT_DISCARD: return "discard";
	case VERDICT_REFUSE: return "refuse";
	}
	return "unknown";
}

void verdict_symbols_text(const struct verdict *v, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < v->n && used < cap; i++) {
		char pts[POINTS_TEXT_MAX];
		int n = snprintf(out + used, cap - used, "%s%s(%s)", used ? "," : "", v->symbols[i].name,
				 points_format(v->symbols[i].points, pts, sizeof(pts)));
		if (n < 0 || (size_t)n >= cap - used) {
			out[used] = '\0';  /* never a symbol cut in half */
			break;
		}
		used += (size_t)n;
	}
}

void verdict_summary(const struct verdict *v, char *out, size_t cap)
{
	char syms[1024], score[POINTS_TEXT_MAX];
	verdict_symbols_text(v, syms, sizeof(syms));
	snprintf(out, cap, "%s %s %s", verdict_action_name(v->action), points_format(v->score, score, sizeof(score)),
		 syms[0] ? syms : "-");
}

static bool given(const char *s)
{
	return s && s[0];
}

/* The scanner's results, "a; b; c", as ";\r\n\ta;\r\n\tb..." after
 * results[0..r): each whole or not at all. */
static void add_scanned(const char *scanned, char *results, size_t r, size_t cap)
{
	while (given(scanned)) {
		while (*scanned == ' ' || *scanned == ';')
			scanned++;
		size_t len = strcspn(scanned, ";");
		while (len > 0 && scanned[len - 1] == ' ')
			len--;
		if (len > 0) {
			int n = snprintf(results + r, cap - r, ";\r\n\t%.*s", (int)len, scanned);
			if (n < 0 || (size_t)n >= cap - r) {
				results[r] = '\0';
				return;
			}
			r += (size_t)n;
		}
		scanned += strcspn(scanned, ";");
	}
}

void verdict_headers(const struct verdict *v, const char *hostname, const struct verdict_auth *a,
		     int required, char *out, size_t cap)
{
	char results[2000] = "";
	size_t r = 0;
	int n;
	/* RFC 8601: the results we checked, under our authserv-id. */
	if (given(a->iprev)) {
		n = snprintf(results, sizeof(results), ";\r\n\tiprev=%s policy.iprev=%s%s%s%s", a->iprev,
			     a->client_ip, given(a->ptr) ? " (" : "", given(a->ptr) ? a->ptr : "",
			     given(a->ptr) ? ")" : "");
		r = n > 0 && (size_t)n < sizeof(results) ? (size_t)n : 0;
	}
	if (given(a->spf)) {
		n = snprintf(results + r, sizeof(results) - r, ";\r\n\tspf=%s smtp.mailfrom=%s", a->spf,
			     given(a->spf_domain) ? a->spf_domain : "unknown");
		if (n < 0 || (size_t)n >= sizeof(results) - r)
			results[r] = '\0';
		r = strlen(results);
	}
	add_scanned(a->scanned, results, r, sizeof(results));
	n = snprintf(out, cap, "Authentication-Results: %s%s\r\n", hostname, results[0] ? results : "; none");
	size_t used = n > 0 && (size_t)n < cap ? (size_t)n : 0;
	out[used] = '\0';
	if (v->action == VERDICT_ACCEPT)
		return;
	char syms[900];  /* RFC 5322 2.1.1: header lines stay below 998 octets */
	char score[POINTS_TEXT_MAX], req[POINTS_TEXT_MAX];
	verdict_symbols_text(v, syms, sizeof(syms));
	points_format(v->score, score, sizeof(score));
	points_format(required > 0 ? required : v->score, req, sizeof(req));
	n = snprintf(out + used, cap - used,
		     "X-Spam-Flag: YES\r\nX-Spam-Score: %s\r\nX-Spam-Status: Yes, score=%s required=%s\r\n"
		     "\ttests=%s\r\n", score, score, req, syms[0] ? syms : "none");
	if (n < 0 || (size_t)n >= cap - used)
		out[used] = '\0';  /* no header cut in half */
}
