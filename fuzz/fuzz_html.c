/*
 * libFuzzer target: the HTML tokenizer (content/html.c) with its colour
 * tracking (content/html_color.c), and the colour parser alone. Contract
 * checks: the kept texts stay within their bounds and NUL-terminated, the
 * counts of text never exceed the input, a colour is 0xRRGGBB or one of
 * the two markers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/html.h"
#include "content/html_color.h"

static void check_text(const struct html_text *t)
{
	if (t->len > HTML_TEXT_KEPT_MAX || t->s[t->len] != '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct html_view v;
	html_view_init(&v);
	html_scan(&v, (const char *)data, size);
	check_text(&v.title);
	check_text(&v.comments);
	check_text(&v.anchors);
	if (v.text_len > size || v.non_space_len > v.text_len || v.source_len != size)
		abort();
	int32_t c = html_color_parse((const char *)data, size < 300 ? size : 300);
	if (c != HTML_COLOR_INVALID && c != HTML_COLOR_EMPTY && (c < 0 || c > 0xffffff))
		abort();
	return 0;
}
