/*
 * See uri.h. A scan over the text, no regex: at each position either a
 * known scheme, "www." at a word start, or (HTML) an attribute that holds
 * a URL; the URL runs to the first byte that cannot be in one.
 */
#include "content/uri.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/mime.h"
#include "util/alloc.h"
#include "util/fnv.h"

static const char *const schemes[] = { "http://", "https://", "ftp://", "mailto:" };
static const char *const attributes[] = { "href", "src", "action", "background" };

static bool url_byte(unsigned char c)
{
	return c > ' ' && c != '<' && c != '>' && c != '"' && c != '\'' && c != '`' && c != 0x7f;
}

/* The hash of uris[]: open addressing, at most half full. */
#define SLOTS 2048
_Static_assert(SLOTS >= 2 * URI_MAX, "the URL hash must stay at most half full");

/* The slot that holds u, or the empty one where it belongs. */
static size_t *slot_of(struct uri_list *l, const char *u)
{
	if (!l->slots)
		l->slots = xcalloc(SLOTS, sizeof(*l->slots));
	size_t i = fnv32_str(u) & (SLOTS - 1);
	while (l->slots[i] && strcmp(l->uris[l->slots[i] - 1], u) != 0)
		i = (i + 1) & (SLOTS - 1);
	return &l->slots[i];
}

/* Trailing punctuation of the sentence around a URL is not part of it. */
static size_t trim_end(const char *s, size_t n)
{
	while (n && strchr(".,;:!?)]}", s[n - 1]))
		n--;
	return n;
}

static int hex(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* Redirectors inside redirectors are followed this deep. */
#define REDIRECT_DEPTH_MAX 3

static void add(struct uri_list *l, const char *prefix, const char *s, size_t n, int depth);

/* A redirector's target: "http(s)://" (or its %-encoding) after the start. */
static void add_redirect_target(struct uri_list *l, const char *u, size_t n, int depth)
{
	char dec[URI_LEN_MAX + 1];
	size_t d = 0;
	for (size_t i = 1; i < n && d < URI_LEN_MAX; i++) {
		int h1, h2;
		if (u[i] == '%' && i + 2 < n && (h1 = hex((unsigned char)u[i + 1])) >= 0 &&
		    (h2 = hex((unsigned char)u[i + 2])) >= 0) {
			dec[d++] = (char)(h1 * 16 + h2);
			i += 2;
		} else {
			dec[d++] = u[i];
		}
	}
	dec[d] = '\0';
	for (const char *p = dec; (p = strcasestr(p, "http")) != NULL; p++) {
		if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
			size_t m = 0;
			while (p[m] && url_byte((unsigned char)p[m]) && p[m] != '&')
				m++;
			add(l, "", p, trim_end(p, m), depth + 1);
			return;
		}
	}
}

static void add(struct uri_list *l, const char *prefix, const char *s, size_t n, int depth)
{
	size_t plen = strlen(prefix);
	if (n == 0 || n + plen > URI_LEN_MAX)
		return;
	if (l->n >= URI_MAX) {
		l->truncated = true;
		return;
	}
	char *u = xmalloc(plen + n + 1);
	memcpy(u, prefix, plen);
	memcpy(u + plen, s, n);
	u[plen + n] = '\0';
	size_t *slot = slot_of(l, u);
	if (*slot) {
		free(u);
		return;
	}
	l->uris = xreallocarray(l->uris, l->n + 1, sizeof(*l->uris));
	l->uris[l->n++] = u;
	*slot = l->n;
	if (depth < REDIRECT_DEPTH_MAX)
		add_redirect_target(l, u, plen + n, depth);
}

/* Could one of words[0..n) (lower case) start with c? Most bytes of a
 * text cannot: one look at the byte spares the comparisons with every
 * word at every position (some 3% of a message's content scan on the
 * SpamAssassin corpus went there). */
static bool may_start(unsigned char c, const char *const *words, size_t n)
{
	int lc = tolower(c);
	for (size_t k = 0; k < n; k++)
		if (lc == words[k][0])
			return true;
	return false;
}

/* A URL starting at text[i]: its length, 0 if none starts here. */
static size_t url_at(const char *text, size_t len, size_t i, const char **prefix)
{
	static const char *const www[] = { "www." };
	*prefix = "";
	if (!may_start((unsigned char)text[i], schemes, sizeof(schemes) / sizeof(schemes[0])) &&
	    !may_start((unsigned char)text[i], www, 1))
		return 0;
	for (size_t s = 0; s < sizeof(schemes) / sizeof(schemes[0]); s++) {
		size_t sl = strlen(schemes[s]);
		if (len - i > sl && strncasecmp(text + i, schemes[s], sl) == 0)
			goto found;
	}
	if (len - i > 4 && strncasecmp(text + i, "www.", 4) == 0 &&
	    (i == 0 || !isalnum((unsigned char)text[i - 1]))) {
		*prefix = "http://";
		goto found;
	}
	return 0;
found:;
	size_t n = 0;
	while (i + n < len && url_byte((unsigned char)text[i + n]))
		n++;
	return n;
}

/* Raw bytes of one attribute value looked at: "&amp;" is 5 bytes for one
 * and white space is dropped, but a value longer than this is no URL we
 * keep. Without the bound, "href=href=href=..." or an unclosed quote made
 * every attribute scan to the end of the part: quadratic. */
#define VALUE_SCAN_MAX (8 * URI_LEN_MAX)

/* HTML: attr = "value" | 'value' | value, for the attributes that hold URLs.
 * Each value is read once: the scan goes on after it. */
static void html_attributes(const char *text, size_t len, struct uri_list *out)
{
	for (size_t i = 0; i < len; i++) {
		if (!may_start((unsigned char)text[i], attributes, sizeof(attributes) / sizeof(attributes[0])))
			continue;
		for (size_t a = 0; a < sizeof(attributes) / sizeof(attributes[0]); a++) {
			size_t al = strlen(attributes[a]);
			if (len - i <= al || strncasecmp(text + i, attributes[a], al) != 0 ||
			    (i && isalnum((unsigned char)text[i - 1])))
				continue;
			size_t j = i + al;
			while (j < len && isspace((unsigned char)text[j]))
				j++;
			if (j >= len || text[j] != '=')
				continue;
			for (j++; j < len && isspace((unsigned char)text[j]); j++)
				;
			char quote = j < len && (text[j] == '"' || text[j] == '\'') ? text[j++] : 0;
			size_t start = j, stop = len - j > VALUE_SCAN_MAX ? j + VALUE_SCAN_MAX : len;
			while (j < stop && (quote ? text[j] != quote : url_byte((unsigned char)text[j])))
				j++;
			/* &amp; in an attribute is "&". */
			char val[URI_LEN_MAX + 1];
			size_t v = 0, k = start;
			for (; k < j && v < URI_LEN_MAX; k++) {
				if (j - k >= 5 && strncasecmp(text + k, "&amp;", 5) == 0) {
					val[v++] = '&';
					k += 4;
				} else if (!isspace((unsigned char)text[k])) {
					val[v++] = text[k];
				}
			}
			/* A value cut by a bound is an overlong URL: not kept
			 * (as in the text, add()). */
			bool whole = k == j && (j < stop || stop == len);
			const char *prefix;
			if (whole && v && url_at(val, v, 0, &prefix))
				add(out, prefix, val, v, 0);
			i = j > i ? j - 1 : i;  /* the loop's i++ then looks past the value */
			break;
		}
	}
}

void uri_extract(const char *text, size_t len, bool html, struct uri_list *out)
{
	for (size_t i = 0; i < len; i++) {
		const char *prefix;
		size_t n = url_at(text, len, i, &prefix);
		if (n) {
			add(out, prefix, text + i, trim_end(text + i, n), 0);
			i += n - 1;
		}
	}
	if (html)
		html_attributes(text, len, out);
}

void uri_extract_message(const struct mime_message *m, struct uri_list *out)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mime_part *p = &m->parts[i];
		if (strncmp(p->type, "text/", 5) == 0 && p->data)
			uri_extract(p->data, p->len, strcmp(p->type, "text/html") == 0, out);
	}
}

void uri_list_free(struct uri_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->uris[i]);
	free(l->uris);
	free(l->slots);
	memset(l, 0, sizeof(*l));
}
