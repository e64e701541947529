/*
 * A cheap superset of a ReplaceTags tag's regex, for Hyperscan's
 * prefilter (issue 11, speed). Debian's look-alike tags (<A> ... <Z>) are
 * kilobytes each: every letter's look-alikes in Latin-1, UTF-8 and HTML
 * entities. Written out they made the body database compile for minutes,
 * so the rules using them ran in PCRE2 alone over every piece of text and
 * took a quarter of the scanner's CPU. Each such tag is replaced, in the
 * text Hyperscan compiles, by "any byte the tag can match, as many times
 * as the tag's matches are long": every match of the tag is a match of
 * that, so the prefilter misses nothing, and PCRE2 confirms each hit with
 * the rule as written. Bytes are a superset on purpose: anything this
 * reader is unsure of counts as every byte; a construct it does not know
 * (a back-reference, \p, \Q ...) gives no superset at all.
 */
#include "content/rules_impl.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "util/alloc.h"

/* Only tags this long are worth it (a short one compiles fast as it is),
 * and only those whose matches are short: a class repeated up to a few
 * bytes still tells text apart; one repeated up to hundreds does not. */
#define SUPERSET_FROM 256
#define SUPERSET_WIDTH_MAX 32

struct byte_set {
	unsigned char bit[32];
};

static void set_bit(struct byte_set *s, unsigned c)
{
	s->bit[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static void set_add(struct byte_set *s, unsigned c)
{
	set_bit(s, c);
	/* Case: the rule's /i, or an inline (?i), may apply; both are in. */
	if (c < 128 && isalpha((int)c)) {
		set_bit(s, (unsigned)toupper((int)c));
		set_bit(s, (unsigned)tolower((int)c));
	}
}

static void set_all(struct byte_set *s)
{
	memset(s->bit, 0xff, sizeof(s->bit));
}

static void set_range(struct byte_set *s, unsigned from, unsigned to)
{
	for (unsigned c = from; c <= to && c < 256; c++)
		set_add(s, c);
}

static int hex_digit(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10 : -1;
}

/* The escape after a backslash at *p (p past the backslash): the one byte
 * it stands for (*p moved past it), ESC_CLASS for a class such as \d or
 * \W (all bytes go in: a superset), ESC_NONE for a zero-width one (\b),
 * ESC_UNKNOWN for anything else. */
enum { ESC_CLASS = 256, ESC_NONE, ESC_UNKNOWN };

static unsigned escape_at(const char **p)
{
	char c = **p;
	if (!c)
		return ESC_UNKNOWN;
	(*p)++;
	if (c == 'x') {
		int h = hex_digit(**p), l = h < 0 ? -1 : hex_digit((*p)[1]);
		if (h < 0 || l < 0)
			return ESC_UNKNOWN;  /* \x{...} or \xH: not in the tags we know */
		*p += 2;
		return (unsigned)(h * 16 + l);
	}
	switch (c) {
	case 'd': case 'D': case 's': case 'S': case 'w': case 'W': case 'h': case 'H': case 'v': case 'V':
		return ESC_CLASS;
	case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G':
		return ESC_NONE;
	case 't': return '\t';
	case 'n': return '\n';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'e': return 0x1b;
	case 'a': return 0x07;
	default:
		return isalnum((unsigned char)c) ? ESC_UNKNOWN : (unsigned char)c;  /* \# \@ \/ \. ... */
	}
}

/* A bracketed class at *p (just past its '['), into s; *p past its ']'. */
static bool class_into(const char **p, struct byte_set *s)
{
	const char *q = *p;
	if (*q == '^') {  /* negated: every byte (a superset) */
		set_all(s);
		q++;
	}
	if (*q == ']')  /* a leading ']' is a member */
		set_add(s, (unsigned char)*q++);
	for (;;) {
		if (!*q)
			return false;
		if (*q == ']')
			break;
		if (q[0] == '[' && q[1] == ':')
			return false;  /* POSIX classes: not in the tags we know */
		unsigned from = (unsigned char)*q++;
		if (from == '\\' && (from = escape_at(&q)) >= ESC_NONE)
			return false;
		if (from == ESC_CLASS) {
			set_all(s);
			continue;
		}
		if (q[0] == '-' && q[1] && q[1] != ']') {
			q++;
			unsigned to = (unsigned char)*q++;
			if (to == '\\' && (to = escape_at(&q)) >= ESC_CLASS)
				return false;
			set_range(s, from, to);
		} else {
			set_add(s, from);
		}
	}
	*p = q + 1;
	return true;
}

/* Every byte re can consume (a superset); false: a construct not read. */
static bool bytes_of(const char *re, struct byte_set *s)
{
	for (const char *p = re; *p;) {
		char c = *p++;
		if (c == '\\') {
			unsigned e = escape_at(&p);
			if (e == ESC_UNKNOWN)
				return false;
			if (e == ESC_CLASS)
				set_all(s);
			else if (e < 256)
				set_add(s, e);
		} else if (c == '[') {
			if (!class_into(&p, s))
				return false;
		} else if (c == '.') {
			set_all(s);
		} else if (c == '(' && *p == '?') {
			/* (?: (?i) (?i: (?= (?! (?<= (?<!: group syntax, no bytes */
			p++;
			p += strspn(p, "imsx-^");
			if (*p == '<' && (p[1] == '=' || p[1] == '!'))
				p += 2;
			else if (*p == ':' || *p == '=' || *p == '!' || *p == ')')
				p++;
			else
				return false;  /* named groups, conditions, recursion ... */
		} else if (c == '{' && isdigit((unsigned char)*p)) {
			p += strspn(p, "0123456789,");  /* a repeat count */
			if (*p++ != '}')
				return false;
		} else if (!strchr("()|*+?^$", c)) {
			set_add(s, (unsigned char)c);
		}
	}
	return true;
}

/* Any byte over 0x7f in the set: all of them. Coarser still, but one range
 * instead of dozens of UTF-8 lead and continuation bytes per letter, which
 * Hyperscan compiles much faster; ASCII text is told apart as well. */
static void widen_high(struct byte_set *s)
{
	unsigned char any = 0;
	for (unsigned i = 16; i < 32; i++)
		any |= s->bit[i];
	if (any)
		memset(s->bit + 16, 0xff, 16);
}

/* How long re's matches are, in bytes, as Hyperscan reckons it. */
static bool widths_of(const char *re, unsigned *min, unsigned *max)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *err = NULL;
	bool ok = hs_expression_info(re, HS_FLAG_DOTALL, &info, &err) == HS_SUCCESS && info;
	if (ok) {
		*min = info->min_width;
		*max = info->max_width;
	}
	free(info);
	hs_free_compile_error(err);
	return ok && *max != UINT_MAX;
}

/* The set as a bracketed class of \xHH ranges. */
static void class_text(const struct byte_set *s, char *out, size_t cap)
{
	size_t used = (size_t)snprintf(out, cap, "[");
	for (unsigned c = 0; c < 256;) {
		if (!(s->bit[c >> 3] & (1u << (c & 7)))) {
			c++;
			continue;
		}
		unsigned to = c;
		while (to + 1 < 256 && (s->bit[(to + 1) >> 3] & (1u << ((to + 1) & 7))))
			to++;
		if (used < cap)
			used += (size_t)(to == c ? snprintf(out + used, cap - used, "\\x%02x", c)
						 : snprintf(out + used, cap - used, "\\x%02x-\\x%02x", c, to));
		c = to + 1;
	}
	if (used < cap)
		snprintf(out + used, cap - used, "]");
}

char *rules_superset(const char *re)
{
	if (strlen(re) < SUPERSET_FROM)
		return NULL;
	struct byte_set s = { { 0 } };
	unsigned min = 0, max = 0;
	if (!bytes_of(re, &s) || !widths_of(re, &min, &max) || max == 0 || max > SUPERSET_WIDTH_MAX)
		return NULL;
	widen_high(&s);
	char cls[256 * 10 + 3];  /* at most 128 ranges of "\xHH-\xHH" */
	class_text(&s, cls, sizeof(cls));
	size_t cap = strlen(cls) + 32;
	char *out = xmalloc(cap);
	snprintf(out, cap, "(?:%s{%u,})", cls, min);
	return out;
}
