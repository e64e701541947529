/*
 * See rules_prefix.h. Why a prefix is a superset: a rule asks whether
 * some stretch of the text matches its regex, and a stretch that matches
 * the sequence a1 a2 ... an begins with a stretch that matches a1 ... ak
 * (the same positions, so anchors, \b and look-arounds in the prefix hold
 * there too). A sequence repeated at least once, (?:a1 ... an){m,}, begins
 * with one copy of it. So a piece of text without a prefix match cannot
 * match the rule, and the pieces with one go to PCRE2, which answers with
 * the rule as written.
 *
 * Debian's __FILL_THIS_FORM_* rules (ReplaceTags, 1.4 to 3 kB each) end
 * in up to a hundred repeats of blank-like sequences: Hyperscan refuses
 * them exactly ("Pattern is too large"), and in its prefilter mode they
 * let 98 % of body paragraphs through. Without their last item they
 * compile exactly in a tenth of a second and let 1 to 34 % through; they
 * were a fifth of the scanner's CPU.
 *
 * The reader only has to find where items begin; it never rewrites one.
 * A cut must never fall inside an item (a cut \x41 would be another byte),
 * so anything it is unsure of (\Q, comments, extended mode, {,n}) makes it
 * give up.
 */
#include "content/rules_prefix.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* Patterns with more top-level items than this are not cut. */
#define ITEMS_MAX 256
/* Candidates offered to usable() at most (each may be a trial compile,
 * seconds when it fails). */
#define TRIES_MAX 4
/* Copies of a repeated group's prefix in a superset of it (below). */
#define COPIES_MAX 3
/* What may lie between the copies: anything. */
#define GAP "(?s:.)*"

struct items {
	const char *at[ITEMS_MAX + 1];  /* item i is at[i] .. at[i + 1] */
	unsigned min[ITEMS_MAX];        /* its least repeat count (1 without a quantifier) */
	size_t n;
};

/* Past the close that ends the bracketed name at p; NULL if none. */
static const char *past(const char *p, char close)
{
	const char *e = strchr(p, close);
	return e ? e + 1 : NULL;
}

/* Past the escape at p (its backslash); NULL for one not taken. */
static const char *escape_end(const char *p)
{
	char c = p[1];
	const char *q = p + 2;
	if (!c || c == 'Q' || c == 'E')
		return NULL;
	if (c == 'x') {  /* \x{hhh} or \x with up to two hex digits */
		if (*q == '{')
			return past(q, '}');
		for (int i = 0; i < 2 && isxdigit((unsigned char)*q); i++)
			q++;
		return q;
	}
	if (strchr("opPNgk", c) && (*q == '{' || *q == '<' || *q == '\''))
		return past(q + 1, *q == '{' ? '}' : *q == '<' ? '>' : '\'');
	if (c == 'p' || c == 'P' || c == 'c')  /* \pL, \cX */
		return *q ? q + 1 : NULL;
	if (c == 'g' && (*q == '-' || *q == '+'))
		q++;
	if (isdigit((unsigned char)c) || c == 'g')  /* a back-reference or an octal escape: all its digits */
		while (isdigit((unsigned char)*q))
			q++;
	return q;
}

/* Past the bracketed class at p (its '['); NULL if unsure. */
static const char *class_end(const char *p)
{
	const char *q = p + 1;
	if (*q == '^')
		q++;
	if (*q == ']')  /* a leading ']' is a member */
		q++;
	while (*q && *q != ']') {
		if (*q == '\\') {
			if (!q[1] || q[1] == 'Q' || (q[1] == 'c' && !q[2]))
				return NULL;
			q += q[1] == 'c' ? 3 : 2;  /* \cX; the others that go on (\x{..}, \p{..}) hold no ']' */
		} else if (q[0] == '[' && q[1] == ':') {
			q = past(q + 2, ']');
			if (!q)
				return NULL;
		} else {
			q++;
		}
	}
	return *q ? q + 1 : NULL;
}

/* Past the group at p (its '('); NULL if unsure. */
static const char *group_end(const char *p)
{
	int depth = 0;
	for (const char *q = p; *q;) {
		if (*q == '\\') {
			q = escape_end(q);
		} else if (*q == '[') {
			q = class_end(q);
		} else {
			if (q[0] == '(' && q[1] == '?' && q[2] == '#')
				return NULL;  /* a comment: its text is not regex */
			depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
			if (*q++ == ')' && depth == 0)
				return q;
		}
		if (!q)
			return NULL;
	}
	return NULL;
}

/* Past the atom at p; NULL at a top-level '|' or ')' or if unsure. */
static const char *atom_end(const char *p)
{
	switch (*p) {
	case '\\':
		return escape_end(p);
	case '[':
		return class_end(p);
	case '(':
		return group_end(p);
	case '|': case ')':
		return NULL;
	default:
		return p + 1;
	}
}

/* Digits, commas and blanks up to a '}', with a blank: "{ 2}", "{2 ,3}",
 * a quantifier in PCRE2 from 10.43 on, text before. */
static bool blank_quantifier(const char *q)
{
	size_t n = strspn(q, "0123456789, \t");
	return q[n] == '}' && (memchr(q, ' ', n) || memchr(q, '\t', n));
}

/* Past the quantifier at p (p if there is none), its least count in
 * *min; NULL for {,n} and blanks in braces (quantifiers in newer PCRE2,
 * text in older). */
static const char *quantifier_end(const char *p, unsigned *min)
{
	*min = 1;
	if (*p == '*' || *p == '?') {
		*min = 0;
		p++;
	} else if (*p == '+') {
		p++;
	} else if (*p == '{') {
		const char *q = p + 1;
		if (*q == ',' || blank_quantifier(q))
			return NULL;
		unsigned long n = 0;
		while (isdigit((unsigned char)*q))
			n = n < UINT_MAX / 10 ? n * 10 + (unsigned long)(*q++ - '0') : UINT_MAX;
		if (q == p + 1)
			return p;  /* '{' as text */
		if (*q == ',')
			for (q++; isdigit((unsigned char)*q);)
				q++;
		if (*q != '}')
			return p;
		*min = (unsigned)n;
		p = q + 1;
	} else {
		return p;
	}
	return *p == '?' || *p == '+' ? p + 1 : p;  /* lazy or possessive: the same strings */
}

static bool items_of(const char *p, const char *end, struct items *it)
{
	it->n = 0;
	while (p < end) {
		const char *a = it->n < ITEMS_MAX ? atom_end(p) : NULL;
		unsigned min = 1;
		const char *q = a && a <= end ? quantifier_end(a, &min) : NULL;
		if (!q || q > end)
			return false;
		it->at[it->n] = p;
		it->min[it->n++] = min;
		p = q;
	}
	it->at[it->n] = end;
	return true;
}

/* The inside of a sole item that is a non-capturing group (?:...) taken
 * at least once: its sequence begins every match, and a group taken m
 * times begins with m copies of it. Not a capturing one: taken apart, the
 * groups inside would be numbered anew (\2 would name another group). */
static bool sole_group_inside(const struct items *it, const char **from, const char **to)
{
	if (it->n != 1 || it->min[0] < 1 || it->at[0][0] != '(')
		return false;
	const char *open = it->at[0], *close = group_end(open);
	if (open[1] != '?' || open[2] != ':' || !close)
		return false;
	*from = open + 3;
	*to = close - 1;
	return true;
}

/* Extended mode ((?x), (?ix:...)) gives blanks and '#' other meanings. */
static bool extended(const char *pattern)
{
	for (const char *p = strstr(pattern, "(?"); p; p = strstr(p + 2, "(?")) {
		size_t flags = strspn(p + 2, "aimnrsxJU-^");
		if (memchr(p + 2, 'x', flags) && (p[2 + flags] == ')' || p[2 + flags] == ':'))
			return true;
	}
	return false;
}

/* The length of c copies of len bytes: each its own group (an option
 * such as (?-i) inside one must not reach into the next), the gap between
 * them; one copy as it is. */
static size_t copies_len(size_t len, unsigned c)
{
	return c == 1 ? len : c * (len + 4) + (c - 1) * strlen(GAP);
}

static char *copies(const char *from, size_t len, unsigned c)
{
	if (c == 1)
		return xstrndup(from, len);
	char *out = xmalloc(copies_len(len, c) + 1), *o = out;
	for (unsigned i = 0; i < c; i++) {
		if (i) {
			memcpy(o, GAP, strlen(GAP));
			o += strlen(GAP);
		}
		memcpy(o, "(?:", 3);
		memcpy(o + 3, from, len);
		o[3 + len] = ')';
		o += len + 4;
	}
	*o = '\0';
	return out;
}

/* Does s[0..len) name a group by number or name (\1, \g, \k, (?1),
 * (?R), (?&n), (?(...), (?P=n), (?P>n))? In a second copy it would name
 * the first copy's group. */
static bool names_groups(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] == '\\') {
			char c = s[++i];
			if (isdigit((unsigned char)c) || c == 'g' || c == 'k')
				return true;
		} else if (s[i] == '(' && s[i + 1] == '?' && i + 2 < len &&
			   (isdigit((unsigned char)s[i + 2]) || strchr("R&(P", s[i + 2]) ||
			    ((s[i + 2] == '+' || s[i + 2] == '-') && i + 3 < len && isdigit((unsigned char)s[i + 3])))) {
			return true;
		}
	}
	return false;
}

/* A candidate: c copies of the first k items, held bytes of the rule. */
struct candidate {
	unsigned c;
	size_t k, held;
};

static int most_held_first(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	if (x->held != y->held)
		return x->held < y->held ? 1 : -1;
	return x->c > y->c ? 1 : x->c < y->c ? -1 : 0;  /* then the simpler */
}

/*
 * The candidates: for a sole group taken m times (m copies of x1 ... xn
 * begin every match), c = 1 .. min(m, COPIES_MAX) copies of a prefix of
 * its sequence with anything between them (the rest of each copy); one
 * whole copy is a proper prefix already. For a sequence of its own, its
 * proper prefixes. The one that holds the most of the rule is tried
 * first: it lets the fewest pieces through (Debian's SHORT2: three copies
 * 7 %, one copy 34 %).
 */
char *rules_prefix_superset(const char *pattern, size_t max_len, bool (*usable)(const char *prefix, void *arg),
			    void *arg)
{
	if (extended(pattern))
		return NULL;
	struct items *it = xmalloc(sizeof(*it));
	const char *from = pattern, *to = pattern + strlen(pattern);
	bool ok = items_of(from, to, it);
	unsigned most = 1;
	size_t last = ok && it->n ? it->n - 1 : 0;
	if (ok && sole_group_inside(it, &from, &to)) {
		most = names_groups(from, (size_t)(to - from)) ? 1 : it->min[0] < COPIES_MAX ? it->min[0] : COPIES_MAX;
		ok = items_of(from, to, it);
		last = it->n;
	}
	struct candidate *cand = xreallocarray(NULL, COPIES_MAX * (last ? last : 1), sizeof(*cand));
	size_t n = 0;
	for (unsigned c = 1; ok && c <= most; c++)
		for (size_t k = 1; k <= last; k++) {
			size_t held = c * (size_t)(it->at[k] - from);
			if (copies_len((size_t)(it->at[k] - from), c) <= max_len)
				cand[n++] = (struct candidate){ c, k, held };
		}
	qsort(cand, n, sizeof(*cand), most_held_first);
	char *found = NULL;
	for (size_t i = 0; i < n && i < TRIES_MAX && !found; i++) {
		found = copies(from, (size_t)(it->at[cand[i].k] - from), cand[i].c);
		if (!usable(found, arg)) {
			free(found);
			found = NULL;
		}
	}
	free(cand);
	free(it);
	return found;
}
