/*
 * See body_text.h. One pass over each part: HTML tags out (into a copy of
 * at most BODY_TEXT_PART_MAX bytes), then paragraphs, each copied with its
 * exact length (the text may hold NUL bytes: never a string copy).
 */
#include "content/body_text.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"

void body_text_add(struct body_text *t, const char *s, size_t len)
{
	if (t->n >= BODY_TEXT_PARAGRAPHS_MAX || t->bytes >= BODY_TEXT_MAX) {
		t->truncated = true;
		return;
	}
	if (len > BODY_TEXT_MAX - t->bytes) {
		len = BODY_TEXT_MAX - t->bytes;
		t->truncated = true;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->s = xreallocarray(t->s, t->cap, sizeof(*t->s));
		t->len = xreallocarray(t->len, t->cap, sizeof(*t->len));
	}
	char *copy = xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	t->s[t->n] = copy;
	t->len[t->n++] = len;
	t->bytes += len;
}

/* HTML to text, roughly: tags out, a few entities in (a real renderer
 * with links and hidden text comes later). At most max bytes out, into a
 * new string; *cut: the input had more. */
static char *strip_html(const char *s, size_t len, size_t max, size_t *out_len, bool *cut)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&nbsp;", ' ' }, { "&#39;", '\'' },
	};
	char *out = xmalloc((len < max ? len : max) + 1);
	size_t o = 0, i = 0;
	bool in_tag = false;
	for (; i < len && o < max; i++) {
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
	*cut = i < len;
	out[o] = '\0';
	*out_len = o;
	return out;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\n';
}

static void flush_paragraph(struct body_text *t, char *para, size_t *p)
{
	while (*p && para[*p - 1] == ' ')
		(*p)--;
	if (*p)
		body_text_add(t, para, *p);
	*p = 0;
}

/* Paragraphs of s[0..len), split at empty (or blank) lines, each run of
 * white space in them one space, as SpamAssassin renders text for body
 * rules: "click \nhere" is "click here", and a paragraph starts at its
 * first other byte (rules anchored with ^ would miss indentation). */
static void add_paragraphs(struct body_text *t, const char *s, size_t len)
{
	char *para = xmalloc(len + 1);
	size_t p = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			size_t j = i + 1;
			while (j < len && s[j] != '\n' && blank(s[j]))
				j++;
			if (j < len && s[j] == '\n') {
				flush_paragraph(t, para, &p);
				i = j;
				continue;
			}
		}
		if (blank(s[i])) {
			if (p && para[p - 1] != ' ')
				para[p++] = ' ';
			continue;
		}
		para[p++] = s[i];
	}
	flush_paragraph(t, para, &p);
	free(para);
}

void body_text_add_part(struct body_text *t, const char *s, size_t len, bool html)
{
	if (html) {
		size_t tl;
		bool cut;
		char *text = strip_html(s, len, BODY_TEXT_PART_MAX, &tl, &cut);
		t->truncated |= cut;
		add_paragraphs(t, text, tl);
		free(text);
		return;
	}
	if (len > BODY_TEXT_PART_MAX) {
		len = BODY_TEXT_PART_MAX;
		t->truncated = true;
	}
	add_paragraphs(t, s, len);
}

void body_text_free(struct body_text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->len);
	memset(t, 0, sizeof(*t));
}
