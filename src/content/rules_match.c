/*
 * Running a rule set over one message (rules.h): every active test rule
 * in turn on its part of the message, then the meta rules in dependency
 * order. PCRE2 with a match limit and a depth limit per call, so that a
 * rule with catastrophic backtracking costs a bounded time on a hostile
 * message (the match then counts as no hit).
 */
#include "content/rules_impl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "content/address_list.h"
#include "util/alloc.h"

#define MATCH_LIMIT 200000
#define DEPTH_LIMIT 20000

struct matcher {
	pcre2_match_data *md;
	pcre2_match_context *mc;
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

/* SpamAssassin's pseudo-headers made of several real ones. */
static bool header_wanted(const char *want, const char *name, size_t nlen)
{
	if (strcasecmp(want, "ToCc") == 0)
		return (nlen == 2 && strncasecmp(name, "To", 2) == 0) || (nlen == 2 && strncasecmp(name, "Cc", 2) == 0);
	if (strcasecmp(want, "MESSAGEID") == 0)
		return (nlen == 10 && strncasecmp(name, "Message-Id", 10) == 0) ||
		       (nlen == 17 && strncasecmp(name, "Resent-Message-Id", 17) == 0);
	return strlen(want) == nlen && strncasecmp(want, name, nlen) == 0;
}

/* Every value of the wanted field(s), unfolded, leading space dropped,
 * one per line; NULL if there is none. */
static char *header_values(const char *hdr, size_t len, const char *want)
{
	char *out = NULL;
	size_t used = 0;
	for (size_t pos = 0; pos < len;) {
		const char *lf = memchr(hdr + pos, '\n', len - pos);
		size_t end = lf ? (size_t)(lf - hdr) + 1 : len;
		while (end < len && (hdr[end] == ' ' || hdr[end] == '\t')) {
			lf = memchr(hdr + end, '\n', len - end);
			end = lf ? (size_t)(lf - hdr) + 1 : len;
		}
		const char *colon = memchr(hdr + pos, ':', end - pos);
		size_t nlen = colon ? (size_t)(colon - (hdr + pos)) : 0;
		while (nlen && (hdr[pos + nlen - 1] == ' ' || hdr[pos + nlen - 1] == '\t'))
			nlen--;
		if (colon && header_wanted(want, hdr + pos, nlen)) {
			out = xreallocarray(out, used + (end - pos) + 2, 1);
			const char *v = colon + 1;
			while (v < hdr + end && (*v == ' ' || *v == '\t'))
				v++;
			for (; v < hdr + end; v++)
				if (*v != '\r' && *v != '\n')
					out[used++] = *v;
			out[used++] = '\n';
			out[used] = '\0';
		}
		pos = end;
	}
	return out;
}

/* The text a header rule matches, per its mode; NULL: the field is absent. */
static char *header_text(const struct rule *r, const struct rules_input *in)
{
	if (strcmp(r->header, "ALL") == 0) {
		char *all = xmalloc(in->header_len + 1);
		memcpy(all, in->header, in->header_len);
		all[in->header_len] = '\0';
		return all;
	}
	char *raw = header_values(in->header, in->header_len, r->header);
	if (!raw || r->mode == HDR_RAW)
		return raw;
	if (r->mode == HDR_ADDR) {
		struct address_list l = { 0 };
		char *first = address_list_parse(raw, strlen(raw), &l) && l.n ? xstrdup(l.addrs[0]) : xstrdup("");
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

static unsigned run_header(const struct matcher *m, const struct rule *r, const struct rules_input *in)
{
	char *text = header_text(r, in);
	if (r->exists) {
		free(text);
		return text != NULL;
	}
	const char *subject = text ? text : r->if_unset ? r->if_unset : "";
	unsigned n = count_matches(m, r->re, subject, strlen(subject), r->negate ? 1 : max_hits(r));
	free(text);
	return r->negate ? n == 0 : n;
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
	default:
		return 0;
	}
}

size_t rules_match(const struct rule_set *rs, const struct rules_input *in, rules_hit_fn hit, void *arg)
{
	struct matcher m = { pcre2_match_data_create(1, NULL), pcre2_match_context_create(NULL) };
	pcre2_set_match_limit(m.mc, MATCH_LIMIT);
	pcre2_set_depth_limit(m.mc, DEPTH_LIMIT);
	unsigned *hits = xcalloc(rs->n ? rs->n : 1, sizeof(*hits));
	size_t reported = 0;
	for (size_t k = 0; k < rs->n_active; k++) {
		size_t i = rs->order[k];
		const struct rule *r = &rs->rules[i];
		hits[i] = r->kind == RULE_META ? rules_meta_eval(r, hits) != 0 : run_rule(&m, r, in);
		if (hits[i] && strncmp(r->name, "__", 2) != 0 && r->points != 0) {
			hit(arg, r->name, r->points, r->describe);  /* once, however often it matched */
			reported++;
		}
	}
	free(hits);
	pcre2_match_context_free(m.mc);
	pcre2_match_data_free(m.md);
	return reported;
}
