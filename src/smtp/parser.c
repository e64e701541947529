#include "smtp/parser.h"

#include <string.h>
#include <strings.h>

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

enum smtp_line_error smtp_line_split(const char *line, size_t len, struct smtp_line *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return SMTP_LINE_CONTROL;
	}
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return SMTP_LINE_EMPTY;
	size_t v = 0;
	while (v < len && is_alpha(line[v]))
		v++;
	if (v == 0 || (v < len && line[v] != ' '))
		return SMTP_LINE_VERB;
	out->verb = line;
	out->verb_len = v;
	out->args = v < len ? line + v + 1 : line + len;
	out->args_len = v < len ? len - v - 1 : 0;
	return SMTP_LINE_OK;
}

const char *smtp_args_after_keyword(const char *args, size_t len, const char *keyword, size_t *rest_len)
{
	size_t k = strlen(keyword);
	if (len < k || strncasecmp(args, keyword, k) != 0)
		return NULL;
	size_t i = k;
	while (i < len && args[i] == ' ')
		i++;
	*rest_len = len - i;
	return args + i;
}

bool smtp_verb_is(const struct smtp_line *l, const char *verb)
{
	return strlen(verb) == l->verb_len && strncasecmp(l->verb, verb, l->verb_len) == 0;
}

static bool is_token_char(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool word_in(const char *w, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncasecmp(w, list[i], len) == 0)
			return true;
	return false;
}

bool smtp_line_is_http(const char *line, size_t len)
{
	static const char *const methods[] = { "GET", "POST", "CONNECT", "HEAD", "PUT", "DELETE",
					       "OPTIONS", "TRACE", "PATCH" };
	/* Fields a browser or an HTTP library sends with every request; any
	 * other "word:" (a glued "MAILFROM:") stays a plain SMTP error. */
	static const char *const fields[] = { "Host", "User-Agent", "Accept", "Accept-Encoding",
		"Accept-Language", "Connection", "Content-Length", "Content-Type", "Cookie", "Referer",
		"Origin", "Upgrade", "Authorization", "Cache-Control", "Pragma", "Proxy-Connection",
		"Transfer-Encoding" };
	size_t w = 0;
	while (w < len && is_token_char(line[w]))
		w++;
	if (w < len && line[w] == ':')
		return word_in(line, w, fields, sizeof(fields) / sizeof(fields[0]));
	return (w == len || line[w] == ' ') && word_in(line, w, methods, sizeof(methods) / sizeof(methods[0]));
}
