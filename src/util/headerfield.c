/*
 * See headerfield.h.
 */
#include "util/headerfield.h"

#include <string.h>

/* One line without its CRLF; first: no line before it to continue. */
static bool line_valid(const char *p, size_t n, bool first)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)p[i] < ' ' && p[i] != '\t') || p[i] == 0x7f)
			return false;
	if (p[0] == ' ' || p[0] == '\t') {
		if (first)
			return false;
		for (size_t i = 0; i < n; i++)
			if (p[i] != ' ' && p[i] != '\t')
				return true;
		return false;  /* a whitespace-only line */
	}
	size_t name = 0;
	while (name < n && p[name] > ' ' && p[name] <= '~' && p[name] != ':')
		name++;
	return name > 0 && name < n && p[name] == ':';
}

bool header_block_valid(const char *p, size_t n)
{
	size_t pos = 0;
	while (pos < n) {
		const char *lf = memchr(p + pos, '\n', n - pos);
		if (!lf)
			return false;  /* a line without its end */
		size_t end = (size_t)(lf - p);
		if (end == pos || p[end - 1] != '\r')
			return false;  /* a bare LF */
		if (!line_valid(p + pos, end - 1 - pos, pos == 0))
			return false;
		pos = end + 1;
	}
	return true;
}
