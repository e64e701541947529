/*
 * The outbound client's reply reader: see reply_reader.h.
 */
#include "smtp/reply_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h"

/*
 * A reply line must end in CRLF and hold printable ASCII, tab or valid
 * UTF-8 (a next hop with SMTPUTF8 may send 8-bit text through, RFC 6531).
 * A bare LF, a NUL or an invalid byte makes the whole reply malformed:
 * the delivery is deferred, never taken as success or failure on a reply
 * we might read differently from the peer. Cuts the CR off (line and *len).
 */
static bool reply_line_clean(char *line, size_t *len)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t n = *len;
	if (n == 0 || p[n - 1] != '\r')
		return false;
	n--;
	for (size_t i = 0; i < n;) {
		if (p[i] == '\t' || (p[i] >= 0x20 && p[i] < 0x7f)) {
			i++;
			continue;
		}
		size_t k = p[i] >= 0x80 ? utf8_seq_len(p + i, n - i) : 0;
		if (k == 0)
			return false;
		i += k;
	}
	line[n] = '\0';
	*len = n;
	return true;
}

static bool reply_line_valid(char *line, size_t *len)
{
	return reply_line_clean(line, len) && *len >= 3 && *len <= REPLY_LINE_MAX &&
	       line[0] >= '1' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
	       line[2] >= '0' && line[2] <= '9' && (*len == 3 || line[3] == ' ' || line[3] == '-');
}

/* "250-KEYWORD params": keep the keyword; RFC 1870's "SIZE 10240000" is
 * the largest message the peer takes. */
static void read_capability(struct reply_reader *r, const char *line, size_t len, unsigned long long *size_max)
{
	size_t k = strcspn(line + 4, " ");
	if (k > 0 && k < sizeof(r->caps[0]) && r->n_caps < REPLY_LINES_MAX)  /* "250- x": no keyword */
		snprintf(r->caps[r->n_caps++], sizeof(r->caps[0]), "%.*s", (int)k, line + 4);
	if (k == 4 && strncasecmp(line + 4, "AUTH", 4) == 0 && len > 9)
		snprintf(r->auth_mechs, sizeof(r->auth_mechs), "%s", line + 9);
	if (k == 4 && strncasecmp(line + 4, "SIZE", 4) == 0 && len > 9) {
		unsigned long long v = 0;
		const char *p = line + 9;
		while (*p >= '0' && *p <= '9' && v < (1ULL << 50))
			v = v * 10 + (unsigned)(*p++ - '0');
		*size_max = v;
	}
}

enum reply_step reply_read_line(struct reply_reader *r, char *line, size_t len, bool ehlo,
				unsigned long long *size_max)
{
	bool valid = reply_line_valid(line, &len);
	int code = valid ? atoi(line) : 0;
	if (!valid || (r->lines > 0 && code != r->code) || ++r->lines > REPLY_LINES_MAX)
		return REPLY_MALFORMED;
	r->code = code;
	if (ehlo && r->lines == 1)
		r->auth_mechs[0] = '\0';  /* a new EHLO reply (after STARTTLS: RFC 3207 4.2) */
	if (ehlo && r->lines > 1 && len > 4)
		read_capability(r, line, len, size_max);
	if (len > 3 && line[3] == '-')
		return REPLY_MORE;
	/* Keep the text printable for logs and DSNs. */
	snprintf(r->text, sizeof(r->text), "%s", line);
	for (char *p = r->text; *p; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
			*p = '?';
	r->lines = 0;
	return REPLY_LAST;
}

bool reply_has_cap(const struct reply_reader *r, const char *cap)
{
	for (unsigned i = 0; i < r->n_caps; i++)
		if (strcasecmp(r->caps[i], cap) == 0)
			return true;
	return false;
}
