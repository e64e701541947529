/*
 * Header-section helpers for content checks (RFC 5322 2.2). See check.h.
 * Bounded: they look at the bytes they are given; only
 * content_header_unfold allocates (its result).
 */
#include "content/check.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"

/* Length of the line at msg[pos..len), its LF included (or to len). */
static size_t line_len(const char *msg, size_t pos, size_t len)
{
	const char *lf = memchr(msg + pos, '\n', len - pos);
	return lf ? (size_t)(lf - (msg + pos)) + 1 : len - pos;
}

size_t content_header_end(const char *msg, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		size_t line = line_len(msg, pos, len);
		pos += line;
		if (line == 1 || (line == 2 && msg[pos - 2] == '\r'))
			return pos;  /* the empty line */
	}
	return len;
}

/* Does the line start the field name? The offset of its value (past the
 * colon) in *voff. White space before the colon is obsolete syntax (RFC
 * 5322 4.5.8) that readers still accept, so it is accepted here too: a
 * "From :" must not slip past a check that a mail client would show. */
bool content_field_is(const char *line, size_t llen, const char *name, size_t *voff)
{
	size_t nlen = strlen(name);
	if (llen <= nlen || strncasecmp(line, name, nlen) != 0)
		return false;
	size_t i = nlen;
	while (i < llen && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= llen || line[i] != ':')
		return false;
	*voff = i + 1;
	return true;
}

bool content_header_find(const char *hdr, size_t len, const char *name, const char **value, size_t *vlen)
{
	for (size_t pos = 0, line; pos < len; pos += line) {
		size_t voff;
		line = line_len(hdr, pos, len);
		if (content_field_is(hdr + pos, line, name, &voff)) {
			*value = hdr + pos + voff;
			*vlen = line - voff;
			return true;
		}
	}
	return false;
}

size_t content_field_len(const char *hdr, size_t len, size_t pos)
{
	size_t flen = line_len(hdr, pos, len);
	while (pos + flen < len && (hdr[pos + flen] == ' ' || hdr[pos + flen] == '\t'))
		flen += line_len(hdr, pos + flen, len);
	return flen;
}

size_t content_header_remove(const char *msg, size_t len, bool (*drop)(const char *field, size_t flen, void *arg),
			     void *arg, char *out)
{
	size_t hlen = content_header_end(msg, len), pos = 0, used = 0;
	while (pos < hlen) {
		/* A field: its first line and every continuation line (RFC 5322 2.2.3). */
		size_t flen = line_len(msg, pos, hlen);
		if (flen == 1 || (flen == 2 && msg[pos] == '\r'))
			break;  /* the empty line: the body follows */
		flen = content_field_len(msg, hlen, pos);
		if (!drop(msg + pos, flen, arg)) {
			memcpy(out + used, msg + pos, flen);
			used += flen;
		}
		pos += flen;
	}
	memcpy(out + used, msg + pos, len - pos);
	return used + (len - pos);
}

size_t content_header_count(const char *hdr, size_t len, const char *name)
{
	size_t n = 0;
	for (size_t pos = 0, line; pos < len; pos += line) {
		size_t voff;
		line = line_len(hdr, pos, len);
		n += content_field_is(hdr + pos, line, name, &voff);
	}
	return n;
}

/* Unfolding (RFC 5322 2.2.3): a line break followed by white space is
 * removed; so is the final line break. */
static void unfold_into(char *out, size_t *olen, const char *v, size_t vlen)
{
	for (size_t i = 0; i < vlen; i++)
		if (v[i] != '\r' && v[i] != '\n')
			out[(*olen)++] = v[i];
	out[*olen] = '\0';
}

char *content_header_unfold(const char *hdr, size_t len, const char *name, size_t *vlen)
{
	for (size_t pos = 0, line; pos < len; pos += line) {
		size_t voff;
		line = line_len(hdr, pos, len);
		if (!content_field_is(hdr + pos, line, name, &voff))
			continue;
		size_t end = pos + content_field_len(hdr, len, pos);
		char *out = xmalloc(end - pos - voff + 1);
		size_t olen = 0;
		unfold_into(out, &olen, hdr + pos + voff, end - pos - voff);
		*vlen = olen;
		return out;
	}
	return NULL;
}

/* A separator line of an mbox: "From " sender, then the asctime date
 * ("From a@b Thu Aug 22 13:17:22 2002"), not just any body line that
 * starts with "From " (many single-message files are not escaped). */
bool content_mbox_separator(const char *line, size_t len)
{
	const char *nl = memchr(line, '\n', len);
	size_t n = nl ? (size_t)(nl - line) : len;
	if (n < 5 || strncmp(line, "From ", 5) != 0)
		return false;
	for (size_t i = 5; i + 8 <= n; i++)
		if (line[i + 2] == ':' && line[i + 5] == ':' && isdigit((unsigned char)line[i]) &&
		    isdigit((unsigned char)line[i + 7]))
			return true;  /* hh:mm:ss */
	return false;
}
