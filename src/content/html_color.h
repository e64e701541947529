/*
 * The text and background colours of an HTML part as its tags set them
 * (issue 11), for SpamAssassin's HTMLEval tests `font_low_contrast` (text
 * shown in a colour too close to its background: hidden words) and
 * `font_invalid_color` (a colour no browser can read). Followed the way
 * SpamAssassin 4 follows them, so that its rules hit on the same mail:
 *
 * - the tags that carry colours are body, font, basefont, table, tr,
 *   td/th, span, p, div, a (and big, small, marquee, which copy them);
 *   each start tag pushes the colours in force, changed by its own
 *   attributes: `text=` (body) or `color=` (font, basefont) for the text,
 *   and a `style=` attribute's `color`, `background-color` and
 *   `background` (table, tr, td, th, span, p, div, a);
 * - a `bgcolor=` attribute changes nothing (SpamAssassin reads it but
 *   never applies it), and neither does </body>;
 * - an end tag pops back to before the latest start tag of its name; a
 *   new td or tr first closes the font and td (and tr) tags left open
 *   in the cell;
 * - the page starts black on white.
 *
 * The stack is bounded: past HTML_COLOR_DEPTH open tags a start tag
 * replaces the innermost entry instead of adding one.
 */
#ifndef MW_CONTENT_HTML_COLOR_H
#define MW_CONTENT_HTML_COLOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTML_COLOR_DEPTH 256

/* A colour: 0xRRGGBB, or one of these. */
#define HTML_COLOR_INVALID (-1)   /* written, but no colour */
#define HTML_COLOR_EMPTY (-2)     /* "#" with no hex digits after it */

struct html_color_style {
	char tag[12];
	int32_t fg, bg;
};

struct html_colors {
	struct html_color_style stack[HTML_COLOR_DEPTH];
	size_t depth;                  /* 1 .. HTML_COLOR_DEPTH; [0] is the page's default */
};

/* Black on white, nothing open: at the start of each text/html part. */
void html_colors_init(struct html_colors *c);
/* A start or end tag (name in lower case) with its attributes a[0..len). */
void html_colors_tag(struct html_colors *c, const char *name, bool closing, const char *a, size_t len);
/* Visible text shown now: is it in a colour too close to its background,
 * or in (or on) an invalid colour? */
void html_colors_judge(const struct html_colors *c, bool *low_contrast, bool *invalid);
/* A colour as written in an attribute or a style (a name, "#rgb",
 * "#rrggbb", "rgb(r, g, b)", "rgb(p%, p%, p%)"), len bytes. */
int32_t html_color_parse(const char *s, size_t len);

#endif
