/*
 * libFuzzer target: the MIME view (content/mime.c) on arbitrary bytes, as
 * a hostile message reaches the scanner's worker threads. Parsed twice:
 * under small limits (so that every limit is reached) and under the
 * defaults. Contract checks: the parts stay within the limits (count,
 * depth, bytes per part and in total), every length is consistent with
 * its data (NUL after it), a cut part says so, the type is a lower-case
 * string, and a failed parse reports MIME_MALFORMED.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/mime.h"

static void check(const struct mime_message *m, const struct mime_limits *lim, bool ok)
{
	if (!ok && !(m->problems & MIME_MALFORMED))
		abort();
	if (m->n_parts > lim->max_parts || (m->n_parts && !m->parts))
		abort();
	size_t total = 0;
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct mime_part *p = &m->parts[i];
		if (p->len > lim->max_part_bytes || p->depth > lim->max_depth)
			abort();
		if (p->len && !p->data)
			abort();
		if (p->data && p->data[p->len] != '\0')
			abort();
		if (p->truncated && !(m->problems & MIME_TOO_LARGE))
			abort();
		if (!memchr(p->type, '\0', sizeof(p->type)))
			abort();
		for (const char *c = p->type; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				abort();
		total += p->len;
	}
	if (total > lim->max_total_bytes)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mime_limits small = {
		.max_depth = 4, .max_parts = 8, .max_part_bytes = 512, .max_total_bytes = 1024,
		.max_field_lines = 64, .max_dash_lines = 32,
	};
	const struct mime_limits *lims[] = { &small, &mime_default_limits };
	for (size_t i = 0; i < 2; i++) {
		struct mime_message m;
		bool ok = mime_parse((const char *)data, size, lims[i], &m);
		check(&m, lims[i], ok);
		mime_free(&m);
	}
	return 0;
}
