/*
 * Running a rule set over one message (rules.h): every active test rule
 * in turn on its part of the message, then the meta rules in dependency
 * order. PCRE2 with a match limit and a depth limit per call, so that a
 * rule with catastrophic backtracking costs a bounded time on a hostile
 * message (the match then counts as no hit).
 */
#include "content/rules_impl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/mime.h"
#include "content/relays.h"
#include "content/rules_fast.h"
#include "content/rules_header_text.h"
#include "util/alloc.h"

#define MATCH_LIMIT 200000
#define DEPTH_LIMIT 20000

struct matcher {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	struct header_texts *headers;  /* the message's header section and its texts per field and mode */
};

/* How often re matches s[0..len): at most max (0: no limit). */
static unsigned count_matches(const struct matcher *m, const pcre2_code *re, const char *s, size_t len,
			      unsigned max)
{
	unsigned hits = 0;
	PCRE2_SIZE at = 0;
	while (at <= len && (max == 0 || hits < max)) {
		int rc = pcre2_match(re, (PCRE2_SPTR)s, len, at, 0, m->md, m->mc);
		if (rc < 0)
			break;  /* no match, or a limit: no (further) hit */
		hits++;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
		at = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
	}
	return hits;
}

static unsigned max_hits(const struct rule *r)
{
	if (!r->multiple)
		return 1;
	return r->maxhits ? r->maxhits : 1000;
}

/* A header rule's answer on text[0..text_len), its field's values (NULL: absent). */
static unsigned match_header_text(const struct matcher *m, const struct rule *r, const struct rules_input *in,
				  const char *text, size_t text_len)
{
	/* ALL: the header section as it came, matched in place (Debian's set
	 * has 44 such rules: a copy each was up to 44 x the section). */
	bool all = strcmp(r->header, "ALL") == 0;
	if (r->exists)
		return all || text != NULL;
	const char *subject = all ? in->header : text ? text : r->if_unset ? r->if_unset : "";
	size_t len = all ? in->header_len : text ? text_len : strlen(subject);
	unsigned n = count_matches(m, r->re, subject, len, r->negate ? 1 : max_hits(r));
	return r->negate ? n == 0 : n;
}

static unsigned run_header(const struct matcher *m, const struct rule *r, const struct rules_input *in)
{
	size_t len = 0;
	const char *text = strcmp(r->header, "ALL") == 0 ? NULL : header_texts_get(m->headers, r, &len);
	return match_header_text(m, r, in, text, len);
}

/* A mimeheader rule's text in entity i's header section h[0..hlen) (0:
 * the message's own, whose texts are cached); *own: what to free. */
static const char *entity_text(const struct matcher *m, const struct rule *r, const struct rules_input *in, size_t i,
			       const char *h, size_t hlen, char **own, size_t *len)
{
	*own = NULL;
	if (i == 0)
		return header_texts_get(m->headers, r, len);
	struct header_index x;
	header_index_build(&x, h, hlen);
	*own = header_text_make(r, &x, in);
	header_index_free(&x);
	*len = *own ? strlen(*own) : 0;
	return *own;
}

/* mimeheader: each MIME entity's header section, the message's own first;
 * a hit on the first that matches; negated, a hit when none does. */
static unsigned run_mimeheader(const struct matcher *m, const struct rule *r, const struct rules_input *in)
{
	size_t n = 1 + (in->mime ? in->mime->n_entity_headers : 0);
	unsigned hits = 0, max = r->negate ? 1 : max_hits(r);
	bool all = strcmp(r->header, "ALL") == 0;
	for (size_t i = 0; i < n && hits < max; i++) {
		const char *h = i ? in->mime->entity_headers[i - 1] : in->header;
		size_t hlen = i ? strlen(h) : in->header_len, len = 0;
		char *own = NULL;
		const char *text = all ? NULL : entity_text(m, r, in, i, h, hlen, &own, &len);
		const char *s = all ? h : text ? text : r->if_unset ? r->if_unset : "";
		hits += count_matches(m, r->re, s, all ? hlen : text ? len : strlen(s), max - hits);
		free(own);
	}
	return r->negate ? hits == 0 : hits;
}

static unsigned run_each(const struct matcher *m, const struct rule *r, const char *const *s, const size_t *len,
			 size_t n)
{
	unsigned hits = 0, max = max_hits(r);
	for (size_t i = 0; i < n && hits < max; i++)
		hits += count_matches(m, r->re, s[i], len[i], max - hits);
	return hits;
}

static unsigned run_rule(const struct matcher *m, const struct rule *r, const struct rules_input *in)
{
	switch (r->kind) {
	case RULE_HEADER:
		return run_header(m, r, in);
	case RULE_BODY:
		return run_each(m, r, in->body, in->body_len, in->n_body);
	case RULE_RAWBODY:
		return run_each(m, r, in->rawbody, in->rawbody_len, in->n_rawbody);
	case RULE_FULL:
		return count_matches(m, r->re, in->full, in->full_len, max_hits(r));
	case RULE_URI:
		return run_each(m, r, in->uri, in->uri_len, in->n_uri);
	case RULE_MIMEHEADER:
		return run_mimeheader(m, r, in);
	case RULE_EVAL:
		return r->eval->run(in, (const char *const *)r->eval_args, r->n_eval_args);
	default:
		return 0;
	}
}

/* --- with the Hyperscan databases (rules_fast.h) ----------------------------- */

struct fast_match {
	struct rules_fast *f;
	hs_scratch_t *scratch;
	unsigned *ids;         /* room for the largest database */
	unsigned char *seen;
};

/* Rule r matched piece s[0..len): one hit, or PCRE2's count where the
 * database only filters (prefilter) or the rule counts (multiple). */
static void fast_hit(const struct matcher *m, const struct rule *r, bool confirm, const char *s, size_t len,
		     unsigned *hit)
{
	unsigned max = r->negate ? 1 : max_hits(r);
	if (*hit < max)
		*hit += confirm ? count_matches(m, r->re, s, len, max - *hit) : 1;
}

static void fast_piece(const struct matcher *m, const struct rule_set *rs, const struct fast_db *d,
		       const struct fast_match *fm, const char *s, size_t len, unsigned *hits)
{
	size_t n = rules_fast_scan(d, fm->scratch, s, len, fm->ids, fm->seen);
	if (n == SIZE_MAX) {  /* the scan failed: PCRE2 answers for each of its rules */
		for (size_t p = 0; p < d->n; p++)
			if (rules_fast_has(fm->f, d->rule[p]))
				fast_hit(m, &rs->rules[d->rule[p]], true, s, len, &hits[d->rule[p]]);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = d->rule[fm->ids[k]];
		fast_hit(m, &rs->rules[i], d->confirm[fm->ids[k]], s, len, &hits[i]);
	}
}

/* A header database: its field's values made once for all its rules. */
static void fast_header(const struct matcher *m, const struct rule_set *rs, const struct fast_db *d,
			const struct fast_match *fm, const struct rules_input *in, unsigned *hits)
{
	size_t len = 0;
	const char *text = d->all_headers ? NULL : header_texts_get(m->headers, &rs->rules[d->like], &len);
	bool absent = !d->all_headers && !text;
	if (!absent)
		fast_piece(m, rs, d, fm, d->all_headers ? in->header : text, d->all_headers ? in->header_len : len, hits);
	for (size_t p = 0; p < d->n; p++) {
		size_t i = d->rule[p];
		const struct rule *r = &rs->rules[i];
		if (!rules_fast_has(fm->f, i))
			continue;
		if (absent)  /* [if-unset: ...] differs per rule; matching "" costs nothing */
			hits[i] = match_header_text(m, r, in, NULL, 0);
		else if (r->negate)
			hits[i] = hits[i] == 0;
	}
}

static void fast_pieces(const struct matcher *m, const struct rule_set *rs, const struct fast_db *d,
			const struct fast_match *fm, const char *const *s, const size_t *len, size_t n, unsigned *hits)
{
	for (size_t k = 0; k < n; k++)
		fast_piece(m, rs, d, fm, s[k], len[k], hits);
}

static void fast_run(const struct matcher *m, const struct rule_set *rs, const struct fast_match *fm,
		     const struct rules_input *in, unsigned *hits)
{
	size_t n_dbs;
	const struct fast_db *dbs = rules_fast_dbs(fm->f, &n_dbs);
	for (size_t j = 0; j < n_dbs; j++) {
		const struct fast_db *d = &dbs[j];
		switch (d->kind) {
		case RULE_HEADER:
			fast_header(m, rs, d, fm, in, hits);
			break;
		case RULE_BODY:
			fast_pieces(m, rs, d, fm, in->body, in->body_len, in->n_body, hits);
			break;
		case RULE_RAWBODY:
			fast_pieces(m, rs, d, fm, in->rawbody, in->rawbody_len, in->n_rawbody, hits);
			break;
		case RULE_URI:
			fast_pieces(m, rs, d, fm, in->uri, in->uri_len, in->n_uri, hits);
			break;
		case RULE_FULL:
			fast_piece(m, rs, d, fm, in->full, in->full_len, hits);
			break;
		default:
			break;
		}
	}
}

/* Set up fm for a match with the databases; false: PCRE2 alone (none, the
 * switch says so, or no scratch space). */
static bool fast_begin(const struct rule_set *rs, struct fast_match *fm)
{
	if (!rs->fast || rs->pcre_only)
		return false;
	fm->f = rs->fast;
	fm->scratch = rules_fast_scratch_take(rs->fast);
	if (!fm->scratch)
		return false;
	size_t n_dbs, most = 1;
	const struct fast_db *dbs = rules_fast_dbs(fm->f, &n_dbs);
	for (size_t j = 0; j < n_dbs; j++)
		most = dbs[j].n > most ? dbs[j].n : most;
	fm->ids = xcalloc(most, sizeof(*fm->ids));
	fm->seen = xcalloc(most, 1);
	return true;
}

static void fast_end(struct fast_match *fm)
{
	rules_fast_scratch_put(fm->f, fm->scratch);
	free(fm->ids);
	free(fm->seen);
}

size_t rules_match(const struct rule_set *rs, const struct rules_input *in, rules_hit_fn hit, void *arg)
{
	struct header_texts headers;
	struct matcher m = { pcre2_match_data_create(1, NULL), pcre2_match_context_create(NULL), &headers };
	pcre2_set_match_limit(m.mc, MATCH_LIMIT);
	pcre2_set_depth_limit(m.mc, DEPTH_LIMIT);
	unsigned *hits = xcalloc(rs->n ? rs->n : 1, sizeof(*hits));
	struct rules_input with_rules = *in;
	with_rules.rules = rs;
	struct rules_memo memo = { 0 };
	with_rules.memo = &memo;
	struct relays *relays = rules_relays_build(in, rs);
	with_rules.relays = relays;
	header_texts_init(&headers, &with_rules);  /* after the relays: X-Spam-Relays-* are made of them */
	struct fast_match fm = { 0 };
	bool fast = fast_begin(rs, &fm);
	if (fast)
		fast_run(&m, rs, &fm, &with_rules, hits);
	size_t reported = 0;
	for (size_t k = 0; k < rs->n_active; k++) {
		size_t i = rs->order[k];
		const struct rule *r = &rs->rules[i];
		if (!r->needed)
			continue;  /* its answer reaches no score (rules_meta.c) */
		if (r->kind == RULE_META)
			hits[i] = rules_meta_eval(r, hits) != 0;
		else if (!fast || !rules_fast_has(fm.f, i))
			hits[i] = run_rule(&m, r, &with_rules);
		int points = r->points[in->score_set < 4 ? in->score_set : 0];
		if (hits[i] && strncmp(r->name, "__", 2) != 0 && points != 0) {
			hit(arg, r->name, points, r->describe);  /* once, however often it matched */
			reported++;
		}
	}
	if (fast)
		fast_end(&fm);
	free(hits);
	header_texts_free(&headers);
	rules_memo_free(&memo);
	free(relays);
	pcre2_match_context_free(m.mc);
	pcre2_match_data_free(m.md);
	return reported;
}
