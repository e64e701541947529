/*
 * Header-section helpers for content checks (RFC 5322 2.2). See check.h.
 * Bounded: they look at the bytes they are given and allocate nothing.
 */
#include "content/check.h"

#include <string.h>
#include <strings.h>

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

bool content_header_find(const char *hdr, size_t len, const char *name, const char **value, size_t *vlen)
{
	size_t nlen = strlen(name);
	for (size_t pos = 0; pos < len;) {
		size_t line = line_len(hdr, pos, len);
		if (line > nlen && hdr[pos + nlen] == ':' && strncasecmp(hdr + pos, name, nlen) == 0) {
			*value = hdr + pos + nlen + 1;
			*vlen = line - nlen - 1;
			return true;
		}
		pos += line;
	}
	return false;
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
		while (pos + flen < hlen && (msg[pos + flen] == ' ' || msg[pos + flen] == '\t'))
			flen += line_len(msg, pos + flen, hlen);
		if (!drop(msg + pos, flen, arg)) {
			memcpy(out + used, msg + pos, flen);
			used += flen;
		}
		pos += flen;
	}
	memcpy(out + used, msg + pos, len - pos);
	return used + (len - pos);
}
