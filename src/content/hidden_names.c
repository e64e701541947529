/*
 * See hidden_names.h. The message is read line by line; the Content-Type
 * and Content-Disposition fields of one header block (lines up to an
 * empty one) are unfolded and split into parameters by a forgiving
 * reader; the name and filename parameters of the block then give their
 * candidates: each value as it stands, without comments, RFC 2231
 * continuations joined in number order and in the order they came, and
 * encoded words decoded by GMime and, for UTF-16 read as bytes, with the
 * NULs dropped.
 */
#include "content/hidden_names.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "content/check.h"
#include "content/mime.h"
#include "util/base64.h"

#define FIELD_MAX 4096      /* unfolded field bytes read; the rest is not */
#define PIECES_MAX 32       /* name parameters per header block */

struct piece {
	bool filename;      /* "filename" (Content-Disposition), else "name" */
	int index;          /* RFC 2231 section number; -1: none */
	bool extended;      /* "*" after the name or the number: charset'lang'%XX */
	char value[HIDDEN_NAME_MAX];
};

struct block {
	struct piece pieces[PIECES_MAX];
	size_t n;
};

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* --- candidates ------------------------------------------------------------ */

static void add(struct hidden_names *out, const char *name, size_t n)
{
	while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	while (n && (*name == ' ' || *name == '\t')) {
		name++;
		n--;
	}
	if (n == 0 || memchr(name, '\0', n))
		return;
	if (n >= HIDDEN_NAME_MAX)
		n = HIDDEN_NAME_MAX - 1;
	for (size_t i = 0; i < out->n; i++)
		if (strlen(out->names[i]) == n && memcmp(out->names[i], name, n) == 0)
			return;
	if (out->n >= HIDDEN_NAMES_MAX) {
		out->truncated = true;
		return;
	}
	memcpy(out->names[out->n], name, n);
	out->names[out->n++][n] = '\0';
}

/* s without its NUL bytes (UTF-16 of ASCII read as bytes). */
static void add_without_nuls(struct hidden_names *out, const char *s, size_t n)
{
	char buf[HIDDEN_NAME_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof(buf); i++)
		if (s[i])
			buf[k++] = s[i];
	add(out, buf, k);
}

/* The payloads of the encoded words in s, decoded but not converted, as
 * one string: "=?utf-16?B?ZgBp...?=" gives "f\0i\0...". */
static size_t encoded_word_bytes(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = strstr(s, "=?"); p && n + 4 < cap; p = strstr(p, "=?")) {
		const char *q1 = strchr(p + 2, '?');
		if (!q1 || !q1[1] || q1[2] != '?')
			break;
		char enc = q1[1];
		const char *data = q1 + 3, *end = strstr(data, "?=");
		if (!end)
			break;
		uint32_t acc = 0;
		unsigned have = 0;
		for (const char *c = data; c < end && n + 4 < cap; c++) {
			if (enc == 'B' || enc == 'b') {
				int v = base64_value((unsigned char)*c);
				if (v < 0)
					continue;
				acc = acc << 6 | (uint32_t)v;
				if (++have == 4) {
					out[n++] = (char)(acc >> 16);
					out[n++] = (char)(acc >> 8);
					out[n++] = (char)acc;
					acc = 0;
					have = 0;
				}
			} else if (*c == '=' && c + 2 < end && hex(c[1]) >= 0 && hex(c[2]) >= 0) {
				out[n++] = (char)(hex(c[1]) << 4 | hex(c[2]));
				c += 2;
			} else {
				out[n++] = *c == '_' ? ' ' : *c;
			}
		}
		if (have >= 2)
			out[n++] = (char)((acc << (6 * (4 - have))) >> 16);
		if (have == 3)
			out[n++] = (char)((acc << 6) >> 8);
		p = end + 2;
	}
	return n;
}

/* A value and its readings: as it stands, without comments, with its
 * encoded words decoded. */
static void add_readings(struct hidden_names *out, const char *v)
{
	add(out, v, strlen(v));
	char nocomment[HIDDEN_NAME_MAX];
	size_t k = 0, depth = 0;
	for (const char *p = v; *p && k + 1 < sizeof(nocomment); p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth)
			depth--;
		else if (!depth)
			nocomment[k++] = *p;
	}
	add(out, nocomment, k);
	if (!strstr(v, "=?"))
		return;
	char *decoded = g_mime_utils_header_decode_text(NULL, v);
	if (decoded)
		add(out, decoded, strlen(decoded));
	g_free(decoded);
	char raw[HIDDEN_NAME_MAX * 2];
	add_without_nuls(out, raw, encoded_word_bytes(v, raw, sizeof(raw)));
}

/* --- parameters ------------------------------------------------------------- */

/* An RFC 2231 value: charset'language' dropped (when there), %XX undone
 * (NULs too). Returns the length. */
static size_t extended_value(const char *v, char *out, size_t cap)
{
	const char *q1 = strchr(v, '\'');
	const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
	if (q2)
		v = q2 + 1;
	size_t n = 0;
	for (; *v && n + 1 < cap; v++) {
		if (*v == '%' && hex(v[1]) >= 0 && hex(v[2]) >= 0) {
			out[n++] = (char)(hex(v[1]) << 4 | hex(v[2]));
			v += 2;
		} else {
			out[n++] = *v;
		}
	}
	out[n] = '\0';
	return n;
}

/* "filename*1*" -> filename, index 1, extended; false if not a name. */
static bool parse_key(const char *key, size_t n, struct piece *p)
{
	char k[32];
	size_t m = 0;
	for (size_t i = 0, depth = 0; i < n; i++) {  /* blanks and comments go: "name()", "filename " */
		if (key[i] == '(')
			depth++;
		else if (key[i] == ')' && depth)
			depth--;
		else if (!depth && key[i] != ' ' && key[i] != '\t' && m + 1 < sizeof(k))
			k[m++] = key[i];
	}
	k[m] = '\0';
	const char *rest;
	if (strncasecmp(k, "filename", 8) == 0)
		rest = k + 8, p->filename = true;
	else if (strncasecmp(k, "name", 4) == 0)
		rest = k + 4, p->filename = false;
	else
		return false;
	p->index = -1;
	p->extended = false;
	if (*rest == '\0')
		return true;
	if (*rest++ != '*')
		return false;
	if (*rest >= '0' && *rest <= '9') {
		p->index = (int)strtol(rest, (char **)&rest, 10) % 1000;
	}
	if (*rest == '*')
		rest++, p->extended = true;
	else if (p->index < 0)
		p->extended = true;  /* "name*=" */
	return *rest == '\0';
}

/* value[0..n) with quotes gone and backslash escapes undone. */
static void plain_value(const char *v, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		if (v[i] == '\\' && i + 1 < n)
			out[k++] = v[++i];
		else if (v[i] != '"' && v[i] != '\'')
			out[k++] = v[i];
	}
	out[k] = '\0';
}

/* One parameter "key=value" of s[0..n). */
static void parameter(struct block *b, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	if (!eq || b->n >= PIECES_MAX)
		return;
	struct piece *p = &b->pieces[b->n];
	if (!parse_key(s, (size_t)(eq - s), p))
		return;
	const char *v = eq + 1;
	size_t vn = n - (size_t)(v - s);
	if (p->extended) {
		char raw[HIDDEN_NAME_MAX], bytes[HIDDEN_NAME_MAX];
		size_t rn = 0;
		for (size_t i = 0; i < vn && rn + 1 < sizeof(raw); i++)
			if (v[i] != '"')
				raw[rn++] = v[i];
		raw[rn] = '\0';
		size_t bn = extended_value(raw, bytes, sizeof(bytes));
		size_t k = 0;  /* UTF-16 of an ASCII name read as bytes: the NULs go */
		for (size_t i = 0; i < bn; i++)
			if (bytes[i])
				p->value[k++] = bytes[i];
		p->value[k] = '\0';
	} else {
		plain_value(v, vn, p->value, sizeof(p->value));
	}
	b->n++;
}

/* Split the field's value into parameters at ';' outside quotes. */
static void field_parameters(struct block *b, const char *v, size_t n)
{
	size_t start = 0;
	bool quoted = false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] == '\\') {
			i++;
			continue;
		}
		if (i < n && v[i] == '"')
			quoted = !quoted;
		if (i == n || (v[i] == ';' && !quoted)) {
			parameter(b, v + start, i - start);
			start = i + 1;
		}
	}
}

/* --- blocks ------------------------------------------------------------------ */

/* Continuations of one key, joined in number order (sorted) or as they came. */
static void add_joined(struct hidden_names *out, const struct block *b, bool filename, bool sorted)
{
	char joined[HIDDEN_NAME_MAX];
	size_t n = 0;
	for (int want = 0, left = 1; left && want < 1000; want++) {
		left = 0;
		for (size_t i = 0; i < b->n; i++) {
			const struct piece *p = &b->pieces[i];
			if (p->filename != filename || p->index < 0)
				continue;
			if (sorted && p->index != want) {
				left |= p->index > want;
				continue;
			}
			size_t vn = strlen(p->value);
			if (n + vn >= sizeof(joined))
				vn = sizeof(joined) - 1 - n;
			memcpy(joined + n, p->value, vn);
			n += vn;
		}
		if (!sorted)
			break;
	}
	add(out, joined, n);
}

static void block_names(struct hidden_names *out, const struct block *b)
{
	for (size_t i = 0; i < b->n; i++)
		add_readings(out, b->pieces[i].value);
	for (int f = 0; f < 2; f++) {
		add_joined(out, b, f, true);
		add_joined(out, b, f, false);
	}
}

void hidden_names_collect(const char *msg, size_t len, struct hidden_names *out)
{
	memset(out, 0, sizeof(*out));
	mime_prepare();
	struct block *b = calloc(1, sizeof(*b));
	if (!b) {
		out->truncated = true;
		return;
	}
	for (size_t pos = 0, flen; pos < len; pos += flen) {
		flen = content_field_len(msg, len, pos);
		size_t voff;
		bool blank = flen <= 2 && (msg[pos] == '\n' || (msg[pos] == '\r' && flen == 2));
		if (blank) {
			block_names(out, b);
			b->n = 0;
		} else if (content_field_is(msg + pos, flen, "Content-Type", &voff) ||
			   content_field_is(msg + pos, flen, "Content-Disposition", &voff)) {
			char field[FIELD_MAX];
			size_t n = 0;
			for (size_t i = voff; i < flen && n < sizeof(field); i++)
				if (msg[pos + i] != '\r' && msg[pos + i] != '\n')
					field[n++] = msg[pos + i];
			field_parameters(b, field, n);
		}
	}
	block_names(out, b);
	free(b);
}
