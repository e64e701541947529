/*
 * libFuzzer target: what the rules check builds from a hostile message
 * (content/check_rules.c): the header section's end and fields removed
 * from it (content/header.c, as the verdict-header check does), the
 * Subject unfolded, and the rendered body (content/body_text.c) of the
 * input as a plain and as an HTML text part. Contract checks: removal
 * never grows the message and keeps the body byte for byte; the unfolded
 * value has no line break; the rendered body stays within its limits,
 * each paragraph NUL-terminated at its length, with no line break and no
 * space at either end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/body_text.h"
#include "content/check.h"

static bool drop_x(const char *field, size_t flen, void *arg)
{
	(void)arg;
	return flen && (field[0] == 'X' || field[0] == 'x');
}

static void check_body(const struct body_text *t)
{
	if (t->n > BODY_TEXT_PARAGRAPHS_MAX || t->bytes > BODY_TEXT_MAX)
		abort();
	size_t sum = 0;
	for (size_t i = 0; i < t->n; i++) {
		const char *s = t->s[i];
		size_t n = t->len[i];
		if (n == 0 || n > BODY_TEXT_PART_MAX || s[n] != '\0')
			abort();
		if (s[0] == ' ' || s[n - 1] == ' ' || memchr(s, '\n', n) || memchr(s, '\r', n))
			abort();
		sum += n;
	}
	if (sum != t->bytes)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	size_t hlen = content_header_end(msg, size);
	if (hlen > size)
		abort();
	char *out = malloc(size + 1);
	size_t n = content_header_remove(msg, size, drop_x, NULL, out);
	if (n > size || memcmp(out + n - (size - hlen), msg + hlen, size - hlen) != 0)
		abort();
	free(out);
	size_t vlen;
	char *subject = content_header_unfold(msg, hlen, "Subject", &vlen);
	if (subject && (memchr(subject, '\r', vlen) || memchr(subject, '\n', vlen) || subject[vlen] != '\0'))
		abort();
	free(subject);
	struct body_text t = { 0 };
	body_text_add_part(&t, msg + hlen, size - hlen, false);
	body_text_add_part(&t, msg + hlen, size - hlen, true);
	check_body(&t);
	body_text_free(&t);
	return 0;
}
