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
#include <strings.h>

#include <gmime/gmime.h>

#include "content/address_list.h"
#include "content/mime.h"
#include "content/relays.h"
#include "content/rules_fast.h"
#include "util/alloc.h"

#define MATCH_LIMIT 200000
#define DEPTH_LIMIT 20000

/* The header section's fields, found once per message (not once per
 * header rule: with hundreds of rules, a 25 MB header section would be
 * scanned hundreds of times). At most HEADER_FIELDS_MAX, the MIME view's
 * default max_field_lines: a message with more has MIME_TOO_MANY_PARTS. */
#define HEADER_FIELDS_MAX 50000
#define ADDR_TEXT_MAX 4096
#define HEADER_TEXT_MAX 102400

struct field {
	size_t start, nlen, colon, end;  /* hdr offsets: name at start, ':' at colon, next field at end */
};

struct header_index {
	const char *hdr;
	struct field *f;
	size_t n;
};

struct matcher {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	struct header_index fields;
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

/* --- header values ------------------------------------------------------------ */

static bool name_is(const char *name, size_t nlen, const char *want, size_t wlen)
{
	return nlen == wlen && strncasecmp(name, want, nlen) == 0;
}

/* Does a field named name[0..nlen) belong to what a rule wants? pseudo:
 * SpamAssassin's pseudo-headers made of several real ones (1 ToCc, 2
 * MESSAGEID), found with want's length once per rule (header_values). */
static bool header_wanted(const char *want, size_t wlen, int pseudo, const char *name, size_t nlen)
{
	if (pseudo == 1)
		return name_is(name, nlen, "To", 2) || name_is(name, nlen, "Cc", 2);
	if (pseudo == 2)
		return name_is(name, nlen, "Message-Id", 10) || name_is(name, nlen, "Resent-Message-Id", 17);
	return name_is(name, nlen, want, wlen);
}

static void header_index_build(struct header_index *x, const char *hdr, size_t len)
{
	size_t cap = 0;
	x->hdr = hdr;
	x->f = NULL;
	x->n = 0;
	for (size_t pos = 0; pos < len && x->n < HEADER_FIELDS_MAX;) {
		const char *lf = memchr(hdr + pos, '\n', len - pos);
		size_t end = lf ? (size_t)(lf - hdr) + 1 : len;
		while (end < len && (hdr[end] == ' ' || hdr[end] == '\t')) {
			lf = memchr(hdr + end, '\n', len - end);
			end = lf ? (size_t)(lf - hdr) + 1 : len;
		}
		const char *colon = memchr(hdr + pos, ':', end - pos);
		if (colon) {
			size_t nlen = (size_t)(colon - (hdr + pos));
			while (nlen && (hdr[pos + nlen - 1] == ' ' || hdr[pos + nlen - 1] == '\t'))
				nlen--;
			if (x->n == cap) {
				cap = cap ? cap * 2 : 64;
				x->f = xreallocarray(x->f, cap, sizeof(*x->f));
			}
			x->f[x->n++] = (struct field){ pos, nlen, (size_t)(colon - hdr), end };
		}
		pos = end;
	}
}

/* Every value of the wanted field(s), leading space dropped, one per
 * line, at most HEADER_TEXT_MAX bytes (Postfix's header_size_limit: a
 * rule decodes and matches this per message, and Debian's set has dozens
 * of rules per common field); unfolded, or with its folds kept as "\n"
 * (SpamAssassin's raw value in mimeheader rules). NULL if there is none. */
static char *header_values(const struct header_index *x, const char *want, bool keep_folds)
{
	char *out = NULL;
	size_t used = 0, cap = 0, wlen = strlen(want);
	/* Pseudo-header names are case-sensitive in SpamAssassin: "MessageId" is
	 * an ordinary (never present) field, not MESSAGEID. */
	int pseudo = strcmp(want, "ToCc") == 0 ? 1 : strcmp(want, "MESSAGEID") == 0 ? 2 : 0;
	for (size_t i = 0; i < x->n && used < HEADER_TEXT_MAX; i++) {
		const struct field *f = &x->f[i];
		if (!header_wanted(want, wlen, pseudo, x->hdr + f->start, f->nlen))
			continue;
		const char *v = x->hdr + f->colon + 1, *end = x->hdr + f->end;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n'))
			end--;  /* the field's own line end */
		if ((size_t)(end - v) > HEADER_TEXT_MAX - used)
			end = v + (HEADER_TEXT_MAX - used);
		if (used + (size_t)(end - v) + 2 > cap) {
			cap = (used + (size_t)(end - v) + 2) * 2;
			out = xreallocarray(out, cap, 1);
		}
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		/* Unfolded as SpamAssassin does: a line break and the blanks
		 * after it become one space ("by \S+ \(Lotus Domino" must match
		 * across a fold); a raw mimeheader value keeps them. */
		for (; v < end; v++) {
			if (*v == '\r')
				continue;
			if (*v != '\n' || keep_folds) {
				out[used++] = *v;
				continue;
			}
			if (v + 1 < end && (v[1] == ' ' || v[1] == '\t')) {
				out[used++] = ' ';
				while (v + 1 < end && (v[1] == ' ' || v[1] == '\t'))
					v++;
			}
		}
		out[used++] = '\n';
		out[used] = '\0';
	}
	return out;
}

/* The text a header rule matches, per its mode; NULL: the field is absent. */
static char *header_text(const struct rule *r, const struct header_index *x, const struct rules_input *in)
{
	bool folds = r->kind == RULE_MIMEHEADER && r->mode == HDR_RAW;
	char *raw = strcmp(r->header, "EnvelopeFrom") == 0 ? rules_envelope_from(in) :
		    strncmp(r->header, "X-Spam-Relays-", 14) == 0 ? rules_relays_header(in, r->header) :
								     header_values(x, r->header, folds);
	if (!raw || r->mode == HDR_RAW)
		return raw;
	if (r->mode == HDR_ADDR) {
		/* The first address: GMime parses the first value, at most
		 * ADDR_TEXT_MAX bytes of it (a From: of 70 000 addresses cost
		 * 0.15 s per From:addr rule, of which Debian's set has 29). */
		struct address_list l = { 0 };
		size_t n = strcspn(raw, "\n");
		if (n > ADDR_TEXT_MAX) {  /* cut after a whole address where there is one */
			n = ADDR_TEXT_MAX;
			const char *comma = memrchr(raw, ',', n);
			if (comma)
				n = (size_t)(comma - raw);
		}
		char *first = address_list_parse(raw, n, &l) && l.n ? xstrdup(l.addrs[0]) : xstrdup("");
		address_list_free(&l);
		free(raw);
		return first;
	}
	char *decoded = g_mime_utils_header_decode_text(NULL, raw);  /* RFC 2047 */
	char *text = xstrdup(decoded ? decoded : raw);
	g_free(decoded);
	free(raw);
	return text;
}

/* A header rule's answer on text, its field's values (NULL: absent). */
static unsigned match_header_text(const struct matcher *m, const struct rule *r, const struct rules_input *in,
				  const char *text)
{
	/* ALL: the header section as it came, matched in place (Debian's set
	 * has 44 such rules: a copy each was up to 44 x the section). */
	bool all = strcmp(r->header, "ALL") == 0;
	if (r->exists)
		return all || text != NULL;
	const char *subject = all ? in->header : text ? text : r->if_unset ? r->if_unset : "";
	size_t len = all ? in->header_len : strlen(subject);
	unsigned n = count_matches(m, r->re, subject, len, r->negate ? 1 : max_hits(r));
	return r->negate ? n == 0 : n;
}

static unsigned run_header(const struct matcher *m, const struct rule *r, const struct rules_input *in)
{
	char *text = strcmp(r->header, "ALL") == 0 ? NULL : header_text(r, &m->fields, in);
	unsigned n = match_header_text(m, r, in, text);
	free(text);
	return n;
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
		size_t hlen = i ? strlen(h) : in->header_len;
		struct header_index own = { 0 };
		if (i && !all)
			header_index_build(&own, h, hlen);
		char *text = all ? NULL : header_text(r, i ? &own : &m->fields, in);
		const char *s = all ? h : text ? text : r->if_unset ? r->if_unset : "";
		hits += count_matches(m, r->re, s, all ? hlen : strlen(s), max - hits);
		free(text);
		free(own.f);
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
	char *text = d->all_headers ? NULL : header_text(&rs->rules[d->like], &m->fields, in);
	bool absent = !d->all_headers && !text;
	if (!absent)
		fast_piece(m, rs, d, fm, d->all_headers ? in->header : text, d->all_headers ? in->header_len : strlen(text),
			   hits);
	for (size_t p = 0; p < d->n; p++) {
		size_t i = d->rule[p];
		const struct rule *r = &rs->rules[i];
		if (!rules_fast_has(fm->f, i))
			continue;
		if (absent)  /* [if-unset: ...] differs per rule; matching "" costs nothing */
			hits[i] = match_header_text(m, r, in, NULL);
		else if (r->negate)
			hits[i] = hits[i] == 0;
	}
	free(text);
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
	struct matcher m = { pcre2_match_data_create(1, NULL), pcre2_match_context_create(NULL), { 0 } };
	header_index_build(&m.fields, in->header, in->header_len);
	pcre2_set_match_limit(m.mc, MATCH_LIMIT);
	pcre2_set_depth_limit(m.mc, DEPTH_LIMIT);
	unsigned *hits = xcalloc(rs->n ? rs->n : 1, sizeof(*hits));
	struct rules_input with_rules = *in;
	with_rules.rules = rs;
	struct relays *relays = rules_relays_build(in, rs);
	with_rules.relays = relays;
	struct fast_match fm = { 0 };
	bool fast = fast_begin(rs, &fm);
	if (fast)
		fast_run(&m, rs, &fm, &with_rules, hits);
	size_t reported = 0;
	for (size_t k = 0; k < rs->n_active; k++) {
		size_t i = rs->order[k];
		const struct rule *r = &rs->rules[i];
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
	free(relays);
	free(m.fields.f);
	pcre2_match_context_free(m.mc);
	pcre2_match_data_free(m.md);
	return reported;
}
