/*
 * See html.h. The tokenizer reads each byte a bounded number of times:
 * a tag's end is searched once (quotes honoured only while they close
 * before the end of the part), a <script> or <style> body is skipped by
 * one search for its end tag, a comment by one search for "-->".
 */
#include "content/html.h"
#include "content/html_color.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The HTML elements, HTML 4 and 5 and the old browser ones still met in
 * mail (sorted, for bsearch). A tag named otherwise is an unknown one. */
static const char *const elements[] = {
	"a", "abbr", "acronym", "address", "applet", "area", "article", "aside", "audio", "b", "base",
	"basefont", "bdi", "bdo", "bgsound", "big", "blink", "blockquote", "body", "br", "button", "canvas",
	"caption", "center", "cite", "code", "col", "colgroup", "data", "datalist", "dd", "del", "details",
	"dfn", "dialog", "dir", "div", "dl", "dt", "em", "embed", "fieldset", "figcaption", "figure", "font",
	"footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr",
	"html", "i", "iframe", "ilayer", "img", "input", "ins", "isindex", "kbd", "keygen", "label", "layer",
	"legend", "li", "link", "listing", "main", "map", "mark", "marquee", "menu", "meta", "meter",
	"multicol", "nav", "nobr", "noembed", "noframes", "nolayer", "noscript", "object", "ol", "optgroup",
	"option", "output", "p", "param", "picture", "plaintext", "pre", "progress", "q", "rp", "rt", "ruby",
	"s", "samp", "script", "section", "select", "small", "source", "spacer", "span", "strike", "strong",
	"style", "sub", "summary", "sup", "table", "tbody", "td", "template", "textarea", "tfoot", "th",
	"thead", "time", "title", "tr", "track", "tt", "u", "ul", "var", "video", "wbr", "xmp",
};

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool is_element(const char *name)
{
	return bsearch(name, elements, sizeof(elements) / sizeof(elements[0]), sizeof(elements[0]), name_cmp) != NULL;
}

void html_view_init(struct html_view *v)
{
	memset(v, 0, sizeof(*v));
	v->max_font_size = 3;  /* the size text has without <font size> */
}

static void keep(struct html_text *t, const char *s, size_t len)
{
	size_t room = HTML_TEXT_KEPT_MAX - t->len;
	if (len > room)
		len = room;
	memcpy(t->s + t->len, s, len);
	t->len += len;
	t->s[t->len] = '\0';
}

/* The counts of a tag (names are kept lower case), NULL if never seen. */
static const struct html_tag_count *find_tag(const struct html_view *v, const char *name)
{
	for (size_t i = 0; i < v->n_tags; i++)
		if (strcasecmp(v->tags[i].name, name) == 0)
			return &v->tags[i];
	return NULL;
}

/* The same, made when new (NULL once HTML_TAG_NAMES_MAX names are counted). */
static struct html_tag_count *tag_count(struct html_view *v, const char *name)
{
	const struct html_tag_count *known = find_tag(v, name);
	if (known)
		return &v->tags[known - v->tags];
	if (v->n_tags == HTML_TAG_NAMES_MAX)
		return NULL;
	struct html_tag_count *c = &v->tags[v->n_tags++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

unsigned html_tag_open(const struct html_view *v, const char *name)
{
	const struct html_tag_count *c = find_tag(v, name);
	return c ? c->inside : 0;
}

void html_tag_counts(const struct html_view *v, const char *name, unsigned *opened, unsigned *closed)
{
	const struct html_tag_count *c = find_tag(v, name);
	*opened = c ? c->opened : 0;
	*closed = c ? c->closed : 0;
}

/* --- one tag ----------------------------------------------------------------------- */

/* The end of the tag that starts at s[0] ('<'): the index of its '>', or
 * len. Quoted attribute values may hold '>'; a quote that never closes
 * does not swallow the rest. */
static size_t tag_end(const char *s, size_t len)
{
	const char *gt = memchr(s, '>', len);
	size_t plain = gt ? (size_t)(gt - s) : len;
	for (size_t i = 1; i < len; i++) {
		if (s[i] == '>')
			return i;
		if ((s[i] == '"' || s[i] == '\'') && i > 0 && (s[i - 1] == '=' || isspace((unsigned char)s[i - 1]))) {
			const char *q = memchr(s + i + 1, s[i], len - i - 1);
			if (!q)
				return plain;
			i = (size_t)(q - s);
		}
	}
	return len;
}

bool html_attribute(const char *a, size_t len, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	for (size_t i = 0; i + nlen < len; i++) {
		if ((i > 0 && !isspace((unsigned char)a[i - 1]) && a[i - 1] != '"' && a[i - 1] != '\'') ||
		    strncasecmp(a + i, name, nlen) != 0)
			continue;
		size_t j = i + nlen;
		while (j < len && isspace((unsigned char)a[j]))
			j++;
		if (j >= len || a[j] != '=')
			continue;
		for (j++; j < len && isspace((unsigned char)a[j]);)
			j++;
		char quote = j < len && (a[j] == '"' || a[j] == '\'') ? a[j++] : 0;
		size_t k = j;
		while (k < len && (quote ? a[k] != quote : !isspace((unsigned char)a[k])))
			k++;
		size_t n = k - j < cap - 1 ? k - j : cap - 1;
		memcpy(out, a + j, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

/* An image's width or height in pixels: "120", or "50%" of screen (an
 * 800 x 600 one); 200 when missing or not a number, as a guess. */
static unsigned long long image_side(const char *a, size_t len, const char *name, unsigned screen)
{
	char v[24];
	if (!html_attribute(a, len, name, v, sizeof(v)) || !isdigit((unsigned char)v[0]))
		return 200;
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (n > 100000)
		n = 100000;  /* no overflow from width="99999999999" */
	if (*end == '%')
		n = n * screen / 100;
	else if (*end)
		return 200;
	return n ? n : 200;
}

/* A font list as mail clients write it: names of letters, spaces and
 * hyphens (a digit may end one), each maybe quoted, the first maybe
 * starting with '.', separated by commas, maybe a ';' at the end. */
static bool font_face_ok(const char *f)
{
	f += strspn(f, " \t\r\n");
	for (bool first = true;; first = false) {
		char quote = 0;
		if (*f == '"' || *f == '\'' || (first && *f == '.'))
			quote = *f++;
		if (!isalpha((unsigned char)*f) && !(first && *f == ' '))
			return false;
		const char *start = f;
		while (isalpha((unsigned char)*f) || *f == ' ' || *f == '-')
			f++;
		if (f - start < 2 || !isalpha((unsigned char)f[-1]))
			return false;
		if (isdigit((unsigned char)*f))
			f++;
		if ((quote == '"' || quote == '\'') ? *f == quote : (*f == '"' || *f == '\''))
			f++;
		if (*f == ',') {
			f++;
			f += strspn(f, " \t\r\n");
			continue;
		}
		if (*f == ';')
			f++;
		return *f == '\0';
	}
}

/* <font size="5">, "+2" (3 + 2), "-1". */
static void font_size(struct html_view *v, const char *a, size_t len)
{
	char sz[16];
	if (!html_attribute(a, len, "size", sz, sizeof(sz)))
		return;
	int n = atoi(sz[0] == '+' || sz[0] == '-' ? sz + 1 : sz);
	if (n > 7)
		n = 7;
	int size = sz[0] == '+' ? 3 + n : sz[0] == '-' ? 3 - n : n;
	if (size > v->max_font_size)
		v->max_font_size = size > 7 ? 7 : size;
}

static void start_tag(struct html_view *v, const char *name, const char *a, size_t len)
{
	if (strcmp(name, "img") == 0) {
		v->images++;
		v->image_area += image_side(a, len, "width", 800) * image_side(a, len, "height", 600);
	} else if (strcmp(name, "font") == 0) {
		char face[256];
		font_size(v, a, len);
		if (html_attribute(a, len, "face", face, sizeof(face)) && !font_face_ok(face))
			v->font_face_bad = true;
	}
	else if (strcmp(name, "embed") == 0 || strcmp(name, "object") == 0 || strcmp(name, "applet") == 0)
		v->embeds = true;
	else if (strcmp(name, "form") == 0) {
		char action[16];
		if (html_attribute(a, len, "action", action, sizeof(action)) &&
		    strncasecmp(action + strspn(action, " \t"), "mailto:", 7) == 0)
			v->form_action_mailto = true;
	}
}

/* --- the part ------------------------------------------------------------------------ */

struct scan {
	struct html_view *v;
	const char *s;
	size_t len, i;
	bool space;          /* the last visible byte was white space */
	unsigned in_title, in_anchor;
	struct html_colors colors;
};

/* Anything but white space (a UTF-8 no-break space is white space too)? */
static bool shows_something(const char *t, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (k + 1 < n && (unsigned char)t[k] == 0xc2 && (unsigned char)t[k + 1] == 0xa0)
			k++;
		else if (!strchr(" \t\n\r\f\v", t[k]) || t[k] == '\0')
			return true;
	}
	return false;
}

/* Text that shows: in what colours (SpamAssassin judges each piece of
 * text between tags, the title's too). */
static void judge_colors(struct scan *sc, const char *t, size_t n)
{
	bool low, invalid;
	if (!shows_something(t, n))
		return;
	html_colors_judge(&sc->colors, &low, &invalid);
	sc->v->font_low_contrast |= low;
	sc->v->font_invalid_color |= invalid;
}

static void visible(struct scan *sc, const char *t, size_t n)
{
	struct html_view *v = sc->v;
	judge_colors(sc, t, n);
	if (sc->in_title) {
		keep(&v->title, t, n);
		return;
	}
	if (sc->in_anchor)
		keep(&v->anchors, t, n);
	for (size_t k = 0; k < n; k++) {
		bool sp = isspace((unsigned char)t[k]);
		if (!sp)
			v->non_space_len++;
		if (!sp || !sc->space)
			v->text_len++;
		sc->space = sp;
	}
}

/* After <script> or <style>: to the end of the matching end tag. */
static void skip_raw_text(struct scan *sc, const char *name)
{
	size_t nlen = strlen(name);
	for (size_t k = sc->i; k + 2 + nlen <= sc->len; k++)
		if (sc->s[k] == '<' && sc->s[k + 1] == '/' && strncasecmp(sc->s + k + 2, name, nlen) == 0) {
			sc->i = k;  /* the end tag is read as one */
			return;
		}
	sc->i = sc->len;
}

/* "<!-- ... -->", "<!DOCTYPE ...>", "<?...>" at sc->i; kept as written. */
static void comment(struct scan *sc)
{
	const char *s = sc->s + sc->i;
	size_t left = sc->len - sc->i, end;
	if (left >= 4 && memcmp(s, "<!--", 4) == 0) {
		const char *e = memmem(s + 4, left - 4, "-->", 3);
		end = e ? (size_t)(e - s) + 3 : left;
	} else {
		const char *e = memchr(s, '>', left);
		end = e ? (size_t)(e - s) + 1 : left;
	}
	if (s[1] == '!') {
		keep(&sc->v->comments, s, end);
		keep(&sc->v->comments, "\n", 1);
	}
	sc->i += end;
}

/* A tag at sc->i ('<' then a letter, or "</" and a letter). */
static void tag(struct scan *sc)
{
	struct html_view *v = sc->v;
	const char *s = sc->s + sc->i;
	size_t left = sc->len - sc->i;
	bool closing = s[1] == '/';
	size_t j = 1 + closing, n = 0;
	char name[16];
	bool long_name = false;
	while (j < left && (isalnum((unsigned char)s[j]) || s[j] == ':' || s[j] == '-' || s[j] == '_')) {
		if (n < sizeof(name) - 1)
			name[n++] = (char)tolower((unsigned char)s[j]);
		else
			long_name = true;
		j++;
	}
	name[n] = '\0';
	size_t end = tag_end(s, left);
	sc->i += end < left ? end + 1 : left;
	v->elements++;
	if (long_name || !is_element(name)) {
		v->unknown_elements++;
		if (long_name)
			return;
	}
	struct html_tag_count *c = tag_count(v, name);
	html_colors_tag(&sc->colors, name, closing, s + j, end > j ? end - j : 0);
	if (closing) {
		if (c && !c->inside)
			v->extra_closes++;
		if (c) {
			c->closed++;
			c->inside -= c->inside > 0;
		}
		if (strcmp(name, "title") == 0 && sc->in_title)
			sc->in_title--;
		else if (strcmp(name, "a") == 0 && sc->in_anchor) {
			sc->in_anchor--;
			keep(&v->anchors, "\n", 1);
		}
		return;
	}
	if (c) {
		c->opened++;
		c->inside++;
	}
	start_tag(v, name, s + j, end > j ? end - j : 0);
	if (strcmp(name, "script") == 0 || strcmp(name, "style") == 0)
		skip_raw_text(sc, name);
	else if (strcmp(name, "title") == 0)
		sc->in_title++;
	else if (strcmp(name, "a") == 0)
		sc->in_anchor++;
	else if (strcmp(name, "img") == 0 && sc->in_anchor)
		keep(&v->anchors, "<img>", 5);
}

void html_scan(struct html_view *v, const char *s, size_t len)
{
	struct scan sc = { .v = v, .s = s, .len = len, .space = true };
	html_colors_init(&sc.colors);  /* each part starts black on white */
	v->html = true;
	v->source_len += len;
	while (sc.i < len) {
		const char *p = s + sc.i;
		size_t left = len - sc.i;
		if (p[0] == '<' && left > 1 && (p[1] == '!' || p[1] == '?')) {
			comment(&sc);
		} else if (p[0] == '<' && left > 1 &&
			   (isalpha((unsigned char)p[1]) || (p[1] == '/' && left > 2 && isalpha((unsigned char)p[2])))) {
			tag(&sc);
		} else if (p[0] == '&' && left > 2) {
			/* An entity: one character of text. */
			size_t k = 1;
			while (k < left && k < 12 && (isalnum((unsigned char)p[k]) || p[k] == '#'))
				k++;
			bool entity = k < left && p[k] == ';' && k > 1;
			bool nbsp = entity && (strncasecmp(p + 1, "nbsp;", 5) == 0 || strncmp(p + 1, "#160;", 5) == 0);
			visible(&sc, nbsp ? " " : entity ? "x" : "&", 1);
			sc.i += entity ? k + 1 : 1;
		} else {
			/* Text up to the next '<' or '&'. */
			size_t k = 1;
			while (k < left && p[k] != '<' && p[k] != '&')
				k++;
			visible(&sc, p, k);
			sc.i += k;
		}
	}
}
