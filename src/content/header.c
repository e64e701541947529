/*
 * Header-section helpers for content checks (RFC 5322 2.2). See check.h.
 * Bounded: they look at the bytes they are given and allocate nothing.
 */
#include "content/check.h"

#include <string.h>
#include <strings.h>

size_t content_header_end(const char *msg, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		const char *lf = memchr(msg + pos, '\n', len - pos);
		if (!lf)
			return len;
		size_t line = (size_t)(lf - (msg + pos)) + 1;
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
		const char *lf = memchr(hdr + pos, '\n', len - pos);
		size_t line = lf ? (size_t)(lf - (hdr + pos)) + 1 : len - pos;
		if (line > nlen && hdr[pos + nlen] == ':' && strncasecmp(hdr + pos, name, nlen) == 0) {
			*value = hdr + pos + nlen + 1;
			*vlen = line - nlen - 1;
			return true;
		}
		pos += line;
	}
	return false;
}
