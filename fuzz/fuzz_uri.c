/*
 * libFuzzer target: URL extraction (content/uri.c) from a text part, as
 * plain text and as HTML. The first byte splits the input in two parts
 * added to one list (as a message's parts are). Contract checks: at most
 * URI_MAX URLs, truncated only when full, each URL non-empty and at most
 * URI_LEN_MAX bytes, no URL twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/uri.h"

static void check(const struct uri_list *l)
{
	if (l->n > URI_MAX || (l->truncated && l->n != URI_MAX))
		abort();
	for (size_t i = 0; i < l->n; i++) {
		size_t n = strlen(l->uris[i]);
		if (n == 0 || n > URI_LEN_MAX)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(l->uris[i], l->uris[j]) == 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1, cut = len ? data[0] % (len + 1) : 0;
	for (int html = 0; html < 2; html++) {
		struct uri_list l = { 0 };
		uri_extract(text, cut, html, &l);
		uri_extract(text + cut, len - cut, html, &l);
		check(&l);
		uri_list_free(&l);
	}
	return 0;
}
