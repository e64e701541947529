/*
 * YAML node helpers for the configuration loader: see loader.h.
 */
#include "config/loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Text from the file, made safe to print: printable ASCII as is, every
 * other byte as \xNN, cut after LOADER_SHOW_MAX bytes with "...". */
void loader_show(char *out, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len && i < LOADER_SHOW_MAX && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (len > LOADER_SHOW_MAX && o + 4 <= size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* "prefix.key" (or "key") with the key escaped, for messages. */
void loader_key_name(char *out, size_t size, const char *prefix, const char *k, size_t klen)
{
	char shown[LOADER_SHOW_SIZE];

	loader_show(shown, sizeof(shown), k, klen);
	snprintf(out, size, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", shown);
}

void loader_err(struct loader *ld, int line, const char *key, const char *fmt, ...)
{
	char problem[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	if (line > 0)
		config_errors_add(ld->errs, "%s:%d: %s: %s", ld->file, line, key, problem);
	else
		config_errors_add(ld->errs, "%s: %s: %s", ld->file, key, problem);
}

/* The 1-based line where a node starts: a scalar's own token, a
 * collection's first entry; fallback when the node has no position
 * (an empty value or an empty collection). */
int loader_line(struct fy_node *n, int fallback)
{
	void *it = NULL;

	if (!n)
		return fallback;
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR: {
		struct fy_token *t = fy_node_get_scalar_token(n);
		const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
		return m ? m->line + 1 : fallback;
	}
	case FYNT_MAPPING: {
		struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
		return p ? loader_line(fy_node_pair_key(p), loader_line(fy_node_pair_value(p), fallback)) : fallback;
	}
	case FYNT_SEQUENCE:
		return loader_line(fy_node_sequence_iterate(n, &it), fallback);
	}
	return fallback;
}

bool loader_text_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* An empty value, or a plain "~" / "null" (YAML's spellings of null). */
bool loader_is_null(struct fy_node *n)
{
	size_t len;
	const char *s;

	if (!n || fy_node_is_null(n))
		return true;
	if (!fy_node_is_scalar(n) || fy_node_is_alias(n) || fy_node_get_style(n) != FYNS_PLAIN)
		return false;
	s = fy_node_get_scalar(n, &len);
	return !s || len == 0 || loader_text_is(s, len, "~") || loader_text_is(s, len, "null") ||
	       loader_text_is(s, len, "Null") || loader_text_is(s, len, "NULL");
}

/*
 * The text of a scalar value. Reports and returns false for a missing
 * value, an alias (refused: no expansion tricks), a collection, or a NUL
 * byte (it would cut C strings short behind the check).
 */
bool loader_scalar(struct loader *ld, struct fy_node *v, const char *name, int kline,
			 const char **s, size_t *len, int *line)
{
	*line = loader_line(v, kline);
	if (loader_is_null(v)) {
		loader_err(ld, kline, name, "missing value");
		return false;
	}
	if (fy_node_is_alias(v)) {
		loader_err(ld, *line, name, "aliases are not supported");
		return false;
	}
	if (fy_node_is_mapping(v)) {
		loader_err(ld, kline, name, "expected a single value, not a mapping");
		return false;
	}
	if (fy_node_is_sequence(v)) {
		loader_err(ld, kline, name, "expected a single value, not a list");
		return false;
	}
	*s = fy_node_get_scalar(v, len);
	if (!*s) {
		loader_err(ld, kline, name, "missing value");
		return false;
	}
	if (memchr(*s, '\0', *len)) {
		loader_err(ld, *line, name, "contains a NUL byte");
		return false;
	}
	return true;
}

/* One of a fixed set of words (an action, a mode); the message lists them
 * in the caller's order. */
int loader_word(struct loader *ld, struct fy_node *v, const char *name, int kline, const char *const *words,
		size_t n)
{
	char list[512];
	size_t used = 0;
	const char *s;
	size_t len;
	int line;

	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (loader_text_is(s, len, words[i]))
			return (int)i;
	list[0] = '\0';
	for (size_t i = 0; i < n && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", words[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	loader_err(ld, line, name, "must be one of: %s", list);
	return -1;
}

/* Is v a collection of the given type? An empty value counts as an empty
 * collection (*empty set). Reports the mismatch otherwise. */
bool loader_expect(struct loader *ld, struct fy_node *v, enum fy_node_type type,
			      const char *name, int kline, const char *what, bool *empty)
{
	*empty = false;
	if (loader_is_null(v)) {
		*empty = true;
		return true;
	}
	if (fy_node_is_alias(v)) {
		loader_err(ld, kline, name, "aliases are not supported");
		return false;
	}
	if (fy_node_get_type(v) != type) {
		loader_err(ld, kline, name, "expected %s", what);
		return false;
	}
	return true;
}

/* The key of a mapping pair: a non-empty scalar, not an alias. */
bool loader_key(struct loader *ld, struct fy_node_pair *p, const char *prefix, int fallback,
		     const char **k, size_t *klen, int *kline)
{
	struct fy_node *kn = fy_node_pair_key(p);

	*kline = loader_line(kn, loader_line(fy_node_pair_value(p), fallback));
	if (loader_is_null(kn) || !fy_node_is_scalar(kn) || fy_node_is_alias(kn) ||
	    (*k = fy_node_get_scalar(kn, klen)) == NULL || *klen == 0) {
		loader_err(ld, *kline, prefix ? prefix : "(top level)", "keys must be plain names");
		return false;
	}
	return true;
}
