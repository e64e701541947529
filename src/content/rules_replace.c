/*
 * Tags in rule regexes, as SpamAssassin's ReplaceTags plugin defines them
 * (issue 11): `replace_tag NAME re` names a piece of regex, and a rule
 * listed in `replace_rules` has each `<NAME>` in its regex replaced by it.
 * `replace_pre`, `replace_post` and `replace_inter` name pieces that a
 * rule asks for with `<pre NAME>`, `<post NAME>`, `<inter NAME>`: put
 * before each tag, after each tag, and between two tags that follow each
 * other directly. `replace_start` / `replace_end` change the brackets.
 * Tags may use other tags (Debian's rules do, to five levels at most here).
 *
 * Rules are compiled as written when they are defined; the rules named in
 * replace_rules are compiled again once every file is read, because the
 * tags and the replace_rules lines may come in any order and any file.
 */
#include "content/rules_impl.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#define TAG_NAME_MAX 64
#define TAG_DEPTH_MAX 5
#define EXPANDED_MAX (256 * 1024)  /* a rule's regex once expanded */

enum tag_kind { TAG_PLAIN, TAG_PRE, TAG_INTER, TAG_POST, TAG_KINDS };

struct replace_tag {
	enum tag_kind kind;
	char name[TAG_NAME_MAX];
	char *value;
};

struct replace_tags {
	struct replace_tag *tags;
	size_t n;
	char **rules;            /* replace_rules names, in order */
	size_t n_rules;
	char start[8], end[8];   /* "<" and ">" unless set */
};

static const char *const kind_keyword[TAG_KINDS] = { "replace_tag", "replace_pre", "replace_inter", "replace_post" };
static const char *const kind_directive[TAG_KINDS] = { NULL, "pre", "inter", "post" };

static struct replace_tags *tags_of(struct rule_set *rs)
{
	if (!rs->replace) {
		rs->replace = xcalloc(1, sizeof(*rs->replace));
		strcpy(rs->replace->start, "<");
		strcpy(rs->replace->end, ">");
	}
	return rs->replace;
}

static const char *tag_value(const struct replace_tags *t, enum tag_kind kind, const char *name, size_t len)
{
	if (!t)
		return NULL;
	/* The last definition counts, as for rules. */
	for (size_t i = t->n; i-- > 0;)
		if (t->tags[i].kind == kind && strlen(t->tags[i].name) == len && memcmp(t->tags[i].name, name, len) == 0)
			return t->tags[i].value;
	return NULL;
}

static void define_tag(struct replace_tags *t, enum tag_kind kind, const char *name, const char *value)
{
	t->tags = xreallocarray(t->tags, t->n + 1, sizeof(*t->tags));
	struct replace_tag *tag = &t->tags[t->n++];
	tag->kind = kind;
	snprintf(tag->name, sizeof(tag->name), "%s", name);
	tag->value = xstrdup(value);
}

static char *next_word(char **s)
{
	char *p = *s + strspn(*s, " \t");
	char *w = p;
	p += strcspn(p, " \t");
	if (*p)
		*p++ = '\0';
	*s = p;
	return w;
}

bool rules_replace_setting(struct rule_set *rs, const char *file, int line, const char *kw, char *args)
{
	for (int k = 0; k < TAG_KINDS; k++) {
		if (strcmp(kw, kind_keyword[k]) != 0)
			continue;
		char *name = next_word(&args);
		char *value = args + strspn(args, " \t");
		if (!*name || strlen(name) >= TAG_NAME_MAX || !*value)
			rules_noted(rs, file, line, "%s: needs a name and a regex", kw);
		else
			define_tag(tags_of(rs), (enum tag_kind)k, name, value);
		return true;
	}
	if (strcmp(kw, "replace_rules") == 0) {
		struct replace_tags *t = tags_of(rs);
		for (char *name; *(name = next_word(&args));) {
			t->rules = xreallocarray(t->rules, t->n_rules + 1, sizeof(*t->rules));
			t->rules[t->n_rules++] = xstrdup(name);
		}
		return true;
	}
	if (strcmp(kw, "replace_start") == 0 || strcmp(kw, "replace_end") == 0) {
		struct replace_tags *t = tags_of(rs);
		char *mark = next_word(&args);
		char *into = kw[8] == 's' ? t->start : t->end;
		if (!*mark || strlen(mark) >= sizeof(t->start))
			rules_noted(rs, file, line, "%s: needs a short marker", kw);
		else
			strcpy(into, mark);
		return true;
	}
	return false;
}

/* --- expansion ---------------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	bool too_long;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > EXPANDED_MAX) {
		o->too_long = true;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = xreallocarray(o->buf, o->cap, 1);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* At s: start marker, a name, end marker? Its length (0: no) and name. */
static size_t marker_at(const struct replace_tags *t, const char *s, const char **name, size_t *nlen)
{
	size_t sl = strlen(t->start), el = strlen(t->end);
	if (strncmp(s, t->start, sl) != 0)
		return 0;
	const char *n = s + sl, *e = strstr(n, t->end);
	if (!e || e == n || (size_t)(e - n) >= TAG_NAME_MAX + 8)
		return 0;
	*name = n;
	*nlen = (size_t)(e - n);
	return sl + (size_t)(e - n) + el;
}

static bool name_chars(const char *n, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '_')
			return false;
	return true;
}

/* A tag's value with the tags it uses replaced (bare: no pre/inter/post). */
static void expand_value(const struct replace_tags *t, const char *v, int depth, struct out *o)
{
	while (*v && !o->too_long) {
		const char *name;
		size_t nlen, m = marker_at(t, v, &name, &nlen);
		const char *val = m && name_chars(name, nlen) ? tag_value(t, TAG_PLAIN, name, nlen) : NULL;
		if (val && depth < TAG_DEPTH_MAX) {
			expand_value(t, val, depth + 1, o);
			v += m;
		} else {
			put(o, v, 1);
			v++;
		}
	}
}

/* "<pre NAME>" and the like: which piece of the three the rule asks for. */
static bool directive_at(const struct replace_tags *t, const char *name, size_t nlen, const char *piece[TAG_KINDS])
{
	for (int k = TAG_PRE; k < TAG_KINDS; k++) {
		size_t dl = strlen(kind_directive[k]);
		if (nlen > dl + 1 && memcmp(name, kind_directive[k], dl) == 0 && name[dl] == ' ') {
			const char *arg = name + dl + 1;
			piece[k] = tag_value(t, (enum tag_kind)k, arg, nlen - dl - 1);
			return true;
		}
	}
	return false;
}

/* The supersets worked out so far, by tag value (a tag is used by many
 * rules, and working one out takes a Hyperscan call). */
struct superset_memo {
	const char **value;
	char **loose;  /* NULL: none for that tag */
	size_t n;
};

static const char *superset_of(const struct replace_tags *t, const char *val, struct superset_memo *memo)
{
	for (size_t i = 0; i < memo->n; i++)
		if (memo->value[i] == val)
			return memo->loose[i];
	struct out v = { 0 };
	put(&v, "", 0);
	expand_value(t, val, 1, &v);
	char *loose = v.too_long ? NULL : rules_superset(v.buf);
	free(v.buf);
	memo->value = xreallocarray(memo->value, memo->n + 1, sizeof(*memo->value));
	memo->loose = xreallocarray(memo->loose, memo->n + 1, sizeof(*memo->loose));
	memo->value[memo->n] = val;
	memo->loose[memo->n++] = loose;
	return loose;
}

static void superset_memo_free(struct superset_memo *memo)
{
	for (size_t i = 0; i < memo->n; i++)
		free(memo->loose[i]);
	free(memo->value);
	free(memo->loose);
}

/* A tag's value, expanded, into o: as it is, or (with a memo) as the
 * cheaper superset rules_superset() gives for a long look-alike tag. */
static void put_tag(const struct replace_tags *t, const char *val, struct superset_memo *memo, struct out *o)
{
	const char *loose = memo ? superset_of(t, val, memo) : NULL;
	if (loose)
		put(o, loose, strlen(loose));
	else
		expand_value(t, val, 1, o);
}

static char *expand(const struct replace_tags *t, const char *re, struct superset_memo *memo)
{
	const char *piece[TAG_KINDS] = { NULL };
	struct out o = { 0 };
	bool after_tag = false;  /* the last thing written was a tag */
	put(&o, "", 0);
	for (const char *s = re; *s && !o.too_long;) {
		const char *name;
		size_t nlen, m = marker_at(t, s, &name, &nlen);
		if (m && directive_at(t, name, nlen, piece)) {
			s += m;  /* a directive writes nothing, and keeps two tags adjacent */
			continue;
		}
		const char *val = m && name_chars(name, nlen) ? tag_value(t, TAG_PLAIN, name, nlen) : NULL;
		if (!val) {
			put(&o, s, 1);
			s++;
			after_tag = false;
			continue;
		}
		if (after_tag && piece[TAG_INTER])
			put(&o, piece[TAG_INTER], strlen(piece[TAG_INTER]));
		if (piece[TAG_PRE])
			put(&o, piece[TAG_PRE], strlen(piece[TAG_PRE]));
		put_tag(t, val, memo, &o);
		if (piece[TAG_POST])
			put(&o, piece[TAG_POST], strlen(piece[TAG_POST]));
		after_tag = true;
		s += m;
	}
	if (o.too_long) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}

char *rules_replace_expand(const struct replace_tags *t, const char *re)
{
	return expand(t, re, NULL);
}

/* The pattern for Hyperscan's prefilter of a rule whose tags, as written
 * in regex, expand into expanded: NULL when no tag had a cheaper
 * superset (or /x, where whitespace in a tag would change meaning). */
static char *prefilter_of(const struct replace_tags *t, const char *regex, const char *expanded, uint32_t options,
			  struct superset_memo *memo)
{
	if (options & PCRE2_EXTENDED)
		return NULL;
	char *loose = expand(t, regex, memo), *pattern = NULL;
	uint32_t loose_options = 0;
	const char *why = NULL;
	pcre2_code *re = loose && strcmp(loose, expanded) != 0 ? rules_compile_regex(loose, &pattern, &loose_options, &why)
							       : NULL;
	pcre2_code_free(re);
	free(loose);
	return pattern;
}

void rules_replace_apply(struct rule_set *rs)
{
	struct replace_tags *t = rs->replace;
	if (!t)
		return;
	struct superset_memo memo = { 0 };
	for (size_t i = 0; i < t->n_rules; i++) {
		size_t at = rules_find(rs, t->rules[i]);
		struct rule *r = at == SIZE_MAX ? NULL : &rs->rules[at];
		if (!r || !r->re || !r->regex)
			continue;  /* not a regex rule (or not defined): nothing to replace */
		char *expanded = rules_replace_expand(t, r->regex);
		const char *why = "longer than 256 KiB once its tags are replaced";
		char *pattern = NULL;
		uint32_t options = 0;
		pcre2_code *re = expanded ? rules_compile_regex(expanded, &pattern, &options, &why) : NULL;
		if (!re) {
			rules_noted(rs, "", 0, "%s: %s", r->name, why);
			pcre2_code_free(r->re);
			r->re = NULL;
			r->defined = false;
		} else {
			pcre2_code_free(r->re);
			r->re = re;
			free(r->prefilter);
			r->prefilter = prefilter_of(t, r->regex, expanded, options, &memo);
			free(r->regex);
			r->regex = expanded;
			expanded = NULL;
			free(r->pattern);
			r->pattern = pattern;  /* what Hyperscan compiles (rules_fast.c) */
			r->re_options = options;
		}
		free(expanded);
	}
	superset_memo_free(&memo);
}

void rules_replace_free(struct replace_tags *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->tags[i].value);
	for (size_t i = 0; i < t->n_rules; i++)
		free(t->rules[i]);
	free(t->tags);
	free(t->rules);
	free(t);
}
