/*
 * See html_color.h. Colours are parsed into a bounded copy (at most
 * COLOR_TEXT_MAX bytes; a longer value is no colour); nothing here
 * allocates.
 */
#include "content/html_color.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/html.h"

#define COLOR_TEXT_MAX 256

/* The CSS 3 colour keywords (HTML 4's sixteen among them), sorted for
 * bsearch. CSS 4's rebeccapurple is left out: SpamAssassin does not know
 * it either, and an unknown name is an invalid colour to it. */
static const struct named_color {
	const char *name;
	int32_t rgb;
} named[] = {
	{ "aliceblue", 0xf0f8ff }, { "antiquewhite", 0xfaebd7 }, { "aqua", 0x00ffff },
	{ "aquamarine", 0x7fffd4 }, { "azure", 0xf0ffff }, { "beige", 0xf5f5dc },
	{ "bisque", 0xffe4c4 }, { "black", 0x000000 }, { "blanchedalmond", 0xffebcd },
	{ "blue", 0x0000ff }, { "blueviolet", 0x8a2be2 }, { "brown", 0xa52a2a },
	{ "burlywood", 0xdeb887 }, { "cadetblue", 0x5f9ea0 }, { "chartreuse", 0x7fff00 },
	{ "chocolate", 0xd2691e }, { "coral", 0xff7f50 }, { "cornflowerblue", 0x6495ed },
	{ "cornsilk", 0xfff8dc }, { "crimson", 0xdc143c }, { "cyan", 0x00ffff },
	{ "darkblue", 0x00008b }, { "darkcyan", 0x008b8b }, { "darkgoldenrod", 0xb8860b },
	{ "darkgray", 0xa9a9a9 }, { "darkgreen", 0x006400 }, { "darkgrey", 0xa9a9a9 },
	{ "darkkhaki", 0xbdb76b }, { "darkmagenta", 0x8b008b }, { "darkolivegreen", 0x556b2f },
	{ "darkorange", 0xff8c00 }, { "darkorchid", 0x9932cc }, { "darkred", 0x8b0000 },
	{ "darksalmon", 0xe9967a }, { "darkseagreen", 0x8fbc8f }, { "darkslateblue", 0x483d8b },
	{ "darkslategray", 0x2f4f4f }, { "darkslategrey", 0x2f4f4f }, { "darkturquoise", 0x00ced1 },
	{ "darkviolet", 0x9400d3 }, { "deeppink", 0xff1493 }, { "deepskyblue", 0x00bfff },
	{ "dimgray", 0x696969 }, { "dimgrey", 0x696969 }, { "dodgerblue", 0x1e90ff },
	{ "firebrick", 0xb22222 }, { "floralwhite", 0xfffaf0 }, { "forestgreen", 0x228b22 },
	{ "fuchsia", 0xff00ff }, { "gainsboro", 0xdcdcdc }, { "ghostwhite", 0xf8f8ff },
	{ "gold", 0xffd700 }, { "goldenrod", 0xdaa520 }, { "gray", 0x808080 },
	{ "green", 0x008000 }, { "greenyellow", 0xadff2f }, { "grey", 0x808080 },
	{ "honeydew", 0xf0fff0 }, { "hotpink", 0xff69b4 }, { "indianred", 0xcd5c5c },
	{ "indigo", 0x4b0082 }, { "ivory", 0xfffff0 }, { "khaki", 0xf0e68c },
	{ "lavender", 0xe6e6fa }, { "lavenderblush", 0xfff0f5 }, { "lawngreen", 0x7cfc00 },
	{ "lemonchiffon", 0xfffacd }, { "lightblue", 0xadd8e6 }, { "lightcoral", 0xf08080 },
	{ "lightcyan", 0xe0ffff }, { "lightgoldenrodyellow", 0xfafad2 }, { "lightgray", 0xd3d3d3 },
	{ "lightgreen", 0x90ee90 }, { "lightgrey", 0xd3d3d3 }, { "lightpink", 0xffb6c1 },
	{ "lightsalmon", 0xffa07a }, { "lightseagreen", 0x20b2aa }, { "lightskyblue", 0x87cefa },
	{ "lightslategray", 0x778899 }, { "lightslategrey", 0x778899 }, { "lightsteelblue", 0xb0c4de },
	{ "lightyellow", 0xffffe0 }, { "lime", 0x00ff00 }, { "limegreen", 0x32cd32 },
	{ "linen", 0xfaf0e6 }, { "magenta", 0xff00ff }, { "maroon", 0x800000 },
	{ "mediumaquamarine", 0x66cdaa }, { "mediumblue", 0x0000cd }, { "mediumorchid", 0xba55d3 },
	{ "mediumpurple", 0x9370db }, { "mediumseagreen", 0x3cb371 }, { "mediumslateblue", 0x7b68ee },
	{ "mediumspringgreen", 0x00fa9a }, { "mediumturquoise", 0x48d1cc }, { "mediumvioletred", 0xc71585 },
	{ "midnightblue", 0x191970 }, { "mintcream", 0xf5fffa }, { "mistyrose", 0xffe4e1 },
	{ "moccasin", 0xffe4b5 }, { "navajowhite", 0xffdead }, { "navy", 0x000080 },
	{ "oldlace", 0xfdf5e6 }, { "olive", 0x808000 }, { "olivedrab", 0x6b8e23 },
	{ "orange", 0xffa500 }, { "orangered", 0xff4500 }, { "orchid", 0xda70d6 },
	{ "palegoldenrod", 0xeee8aa }, { "palegreen", 0x98fb98 }, { "paleturquoise", 0xafeeee },
	{ "palevioletred", 0xdb7093 }, { "papayawhip", 0xffefd5 }, { "peachpuff", 0xffdab9 },
	{ "peru", 0xcd853f }, { "pink", 0xffc0cb }, { "plum", 0xdda0dd },
	{ "powderblue", 0xb0e0e6 }, { "purple", 0x800080 }, { "red", 0xff0000 },
	{ "rosybrown", 0xbc8f8f }, { "royalblue", 0x4169e1 }, { "saddlebrown", 0x8b4513 },
	{ "salmon", 0xfa8072 }, { "sandybrown", 0xf4a460 }, { "seagreen", 0x2e8b57 },
	{ "seashell", 0xfff5ee }, { "sienna", 0xa0522d }, { "silver", 0xc0c0c0 },
	{ "skyblue", 0x87ceeb }, { "slateblue", 0x6a5acd }, { "slategray", 0x708090 },
	{ "slategrey", 0x708090 }, { "snow", 0xfffafa }, { "springgreen", 0x00ff7f },
	{ "steelblue", 0x4682b4 }, { "tan", 0xd2b48c }, { "teal", 0x008080 },
	{ "thistle", 0xd8bfd8 }, { "tomato", 0xff6347 }, { "turquoise", 0x40e0d0 },
	{ "violet", 0xee82ee }, { "wheat", 0xf5deb3 }, { "white", 0xffffff },
	{ "whitesmoke", 0xf5f5f5 }, { "yellow", 0xffff00 }, { "yellowgreen", 0x9acd32 },
};

static int named_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct named_color *)elem)->name);
}

/* --- one colour ------------------------------------------------------------------- */

/* "#" and hex digits as browsers of old read them: other bytes dropped,
 * more than six digits cut to six, four or five cut to three, then padded
 * with '0' to a multiple of three; three digits stand for six ("#abc" is
 * "#aabbcc"). None at all is HTML_COLOR_EMPTY. */
static int32_t hex_color(const char *s)
{
	char d[7];
	size_t n = 0;
	for (; *s && n < 6; s++)
		if (isxdigit((unsigned char)*s))
			d[n++] = *s;
	if (n == 4 || n == 5)
		n = 3;
	if (n == 0)
		return HTML_COLOR_EMPTY;
	size_t want = n <= 3 ? 3 : 6;  /* padded to a multiple of three */
	while (n < want)
		d[n++] = '0';
	if (n == 3) {
		d[5] = d[4] = d[2];
		d[3] = d[2] = d[1];
		d[1] = d[0];
	}
	d[6] = '\0';
	return (int32_t)strtol(d, NULL, 16);
}

/* The three numbers of "rgb(A, B, C)" (each "N" or, percent set, "N%"),
 * found anywhere in s; false if s has no such group. */
static bool rgb_numbers(const char *s, bool percent, unsigned long v[3])
{
	for (const char *p = strstr(s, "rgb("); p; p = strstr(p + 1, "rgb(")) {
		const char *q = p + 4;
		size_t i = 0;
		for (; i < 3; i++) {
			if (i > 0)
				q += strspn(q, " \t\r\n\f\v");
			if (!isdigit((unsigned char)*q))
				break;
			char *end;
			v[i] = strtoul(q, &end, 10);
			q = end;
			if (percent && *q++ != '%')
				break;
			if (i < 2 && *q++ != ',')
				break;
		}
		if (i == 3 && q[strspn(q, " \t\r\n\f\v")] == ')')
			return true;
	}
	return false;
}

/* Only "#", hex digits, or an "rgb(" group of digits, '%', ',' and
 * spaces somewhere: the forms a colour may take. */
static bool color_shaped(const char *s)
{
	if (strspn(s, "#0123456789abcdef") == strlen(s))
		return true;
	for (const char *p = strstr(s, "rgb("); p; p = strstr(p + 1, "rgb(")) {
		size_t n = strspn(p + 4, "0123456789%, ");
		if (p[4 + n] == ')')
			return true;
	}
	return false;
}

int32_t html_color_parse(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	char c[COLOR_TEXT_MAX];
	if (len >= sizeof(c) || memchr(s, '\0', len))
		return HTML_COLOR_INVALID;
	for (size_t i = 0; i < len; i++)
		c[i] = (char)tolower((unsigned char)s[i]);
	c[len] = '\0';
	const struct named_color *nc = bsearch(c, named, sizeof(named) / sizeof(named[0]), sizeof(named[0]), named_cmp);
	if (nc)
		return nc->rgb;
	if (!color_shaped(c))
		return HTML_COLOR_INVALID;
	unsigned long v[3];
	char hex[80];
	if (rgb_numbers(c, true, v)) {
		snprintf(hex, sizeof(hex), "#%02lx%02lx%02lx", v[0] * 255 / 100 % 0x1000000,
			 v[1] * 255 / 100 % 0x1000000, v[2] * 255 / 100 % 0x1000000);
		return hex_color(hex);
	}
	if (rgb_numbers(c, false, v)) {
		/* Each number in hex, as long as it takes: rgb(300, 0, 0) is "#12c0000". */
		snprintf(hex, sizeof(hex), "#%02lx%02lx%02lx", v[0] % 0x1000000, v[1] % 0x1000000, v[2] % 0x1000000);
		return hex_color(hex);
	}
	return c[0] == '#' ? hex_color(c) : HTML_COLOR_INVALID;
}

/* --- style attributes ------------------------------------------------------------- */

#define COLOR_TRANSPARENT (-3)   /* only while one style attribute is read */
#define COLOR_UNSET (-4)

/* A `color:` or `background-color:` value, lower case: "rgb(...)" or
 * "rgba(...)" with its digits taken as they come (missing ones 0, above
 * 255 cut), "transparent", "inherit" (no change: COLOR_UNSET), else a
 * colour. A trailing "!important" does not make it invalid. */
static int32_t style_color(const char *v, size_t len)
{
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	const char *bang = memrchr(v, '!', len);
	if (bang) {
		const char *w = bang + 1 + strspn(bang + 1, " \t\r\n\f\v");
		if ((size_t)(v + len - w) == 9 && memcmp(w, "important", 9) == 0)
			for (len = (size_t)(bang - v); len && isspace((unsigned char)v[len - 1]);)
				len--;
	}
	if (len == 7 && memcmp(v, "inherit", 7) == 0)
		return COLOR_UNSET;
	if (len == 11 && memcmp(v, "transparent", 11) == 0)
		return COLOR_TRANSPARENT;
	if (!memmem(v, len, "rgb", 3))
		return html_color_parse(v, len);
	unsigned long rgb[3] = { 0, 0, 0 };
	size_t k = 0;
	for (size_t i = 0; i < len && k < 3; i++) {
		if (v[i] == ',')
			k++;
		else if (isdigit((unsigned char)v[i]))
			rgb[k] = rgb[k] > 255 ? 256 : rgb[k] * 10 + (unsigned long)(v[i] - '0');
	}
	for (k = 0; k < 3; k++)
		if (rgb[k] > 255)
			rgb[k] = 255;
	return (int32_t)(rgb[0] << 16 | rgb[1] << 8 | rgb[2]);
}

/* A `background:` value's colour: its layers are separated by commas
 * outside parentheses and quotes, the last one painted below the others;
 * the first word of that layer that is a colour. COLOR_UNSET if none. */
static int32_t background_color(const char *v, size_t len)
{
	int32_t last = COLOR_UNSET, layer = COLOR_UNSET;
	bool layer_words = false;
	size_t depth = 0, start = 0;
	char quote = 0;
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? v[i] : ' ';
		if (quote) {
			quote = ch == quote ? 0 : quote;
			continue;
		}
		if (ch == '"' || ch == '\'')
			quote = ch;
		else if (ch == '(')
			depth++;
		else if (ch == ')' && depth)
			depth--;
		if (depth || (ch != ' ' && ch != ',' && i < len))
			continue;
		if (i > start) {
			int32_t c = html_color_parse(v + start, i - start);
			layer_words = true;
			if (layer == COLOR_UNSET && c != HTML_COLOR_INVALID)
				layer = c;
		}
		start = i + 1;
		if (ch == ',' || (i == len && layer_words)) {
			last = layer;
			layer = COLOR_UNSET;
			layer_words = false;
		}
	}
	return last;
}

/* The declarations of a style attribute that set colours, into *fg, *bg:
 * "color:" and "background-color:" in any case, "background:" as written. */
static void style_colors(const char *style, int32_t *fg, int32_t *bg)
{
	char lower[1024];
	for (const char *d = style; *d;) {
		size_t len = strcspn(d, ";"), ws = strspn(d, " \t\r\n\f\v");
		ws = ws < len ? ws : len;
		const char *p = d + ws;
		size_t plen = len - ws;
		bool back = plen >= 11 && strncasecmp(p, "background-", 11) == 0;
		size_t name = back ? 11 : 0;
		if (plen >= name + 6 && strncasecmp(p + name, "color:", 6) == 0 && plen - name - 6 < sizeof(lower)) {
			size_t vlen = plen - name - 6;
			for (size_t i = 0; i < vlen; i++)
				lower[i] = (char)tolower((unsigned char)p[name + 6 + i]);
			size_t lead = 0;
			while (lead < vlen && isspace((unsigned char)lower[lead]))
				lead++;
			int32_t c = lead < vlen ? style_color(lower + lead, vlen - lead) : COLOR_UNSET;
			if (c != COLOR_UNSET)
				*(back ? bg : fg) = c;
		} else if (plen >= 11 && strncmp(p, "background:", 11) == 0) {
			int32_t c = background_color(p + 11, plen - 11);
			if (c != COLOR_UNSET)
				*bg = c;
		}
		d += len + (d[len] == ';');
	}
}

/* --- the stack of open tags ------------------------------------------------------- */

void html_colors_init(struct html_colors *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->stack[0].tag, sizeof(c->stack[0].tag), "%s", "#page");
	c->stack[0].fg = 0x000000;
	c->stack[0].bg = 0xffffff;
	c->depth = 1;
}

static bool one_of(const char *s, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(s, *names) == 0)
			return true;
	return false;
}

/* The innermost open entry named tag, or 0 (the page's, never closed). */
static size_t open_at(const struct html_colors *c, const char *tag)
{
	for (size_t i = c->depth; i-- > 1;)
		if (strcmp(c->stack[i].tag, tag) == 0)
			return i;
	return 0;
}

/* A new cell or row closes the font tags (and cells, rows) left open in
 * the one before it, if such a cell or row is open at all. */
static void close_table_part(struct html_colors *c, const char *tag)
{
	static const char *const in_cell[] = { "font", "td", NULL };
	static const char *const in_row[] = { "font", "td", "tr", NULL };
	if (!open_at(c, tag))
		return;
	while (c->depth > 1 && one_of(c->stack[c->depth - 1].tag, strcmp(tag, "td") == 0 ? in_cell : in_row))
		c->depth--;
}

static void push(struct html_colors *c, const char *tag, int32_t fg, int32_t bg)
{
	if (c->depth == HTML_COLOR_DEPTH)
		c->depth--;
	struct html_color_style *s = &c->stack[c->depth++];
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
	s->fg = fg;
	s->bg = bg;
}

static void start_tag(struct html_colors *c, const char *tag, const char *a, size_t len)
{
	static const char *const styled[] = { "table", "tr", "td", "span", "p", "div", "a", NULL };
	char value[1024];
	if (strcmp(tag, "basefont") == 0 && html_attribute(a, len, "size", value, sizeof(value)) &&
	    isdigit((unsigned char)value[strspn(value, " \t\r\n\f\v")]))
		return;  /* changes the base size alone */
	if (strcmp(tag, "td") == 0 || strcmp(tag, "tr") == 0)
		close_table_part(c, tag);
	const struct html_color_style *top = &c->stack[c->depth - 1];
	int32_t fg = top->fg, bg = top->bg;
	const char *text_attr = strcmp(tag, "body") == 0 ? "text"
				: strcmp(tag, "font") == 0 || strcmp(tag, "basefont") == 0 ? "color"
											     : NULL;
	if (text_attr && html_attribute(a, len, text_attr, value, sizeof(value)))
		fg = html_color_parse(value, strlen(value));
	if (one_of(tag, styled) && html_attribute(a, len, "style", value, sizeof(value))) {
		style_colors(value, &fg, &bg);
		if (bg == COLOR_TRANSPARENT)
			bg = top->bg;
		if (fg == COLOR_TRANSPARENT)
			fg = bg;
	}
	push(c, tag, fg, bg);
}

void html_colors_tag(struct html_colors *c, const char *name, bool closing, const char *a, size_t len)
{
	static const char *const colored[] = { "body", "font", "table", "tr", "td", "big", "small", "basefont",
					       "marquee", "span", "p", "div", "a", NULL };
	const char *tag = strcmp(name, "th") == 0 ? "td" : name;
	if (!one_of(tag, colored))
		return;
	if (!closing) {
		start_tag(c, tag, a, len);
		return;
	}
	/* Browsers show text after </body> in the body's colours. */
	size_t at = strcmp(tag, "body") == 0 ? 0 : open_at(c, tag);
	if (at)
		c->depth = at;
}

void html_colors_judge(const struct html_colors *c, bool *low_contrast, bool *invalid)
{
	const struct html_color_style *s = &c->stack[c->depth - 1];
	*low_contrast = *invalid = false;
	if (s->fg == s->bg) {
		*low_contrast = true;
		return;
	}
	if (s->fg >= 0 && s->bg >= 0) {
		/* Distance of the two colours with each channel weighted by its
		 * share of brightness (ITU-R BT.709 luma); at most ~191. Under
		 * 12 the text is all but unreadable: SpamAssassin's limit. */
		double r = 0.2126 * (((s->fg >> 16) & 0xff) - ((s->bg >> 16) & 0xff));
		double g = 0.7152 * (((s->fg >> 8) & 0xff) - ((s->bg >> 8) & 0xff));
		double b = 0.0722 * ((s->fg & 0xff) - (s->bg & 0xff));
		if (sqrt(r * r + g * g + b * b) < 12) {
			*low_contrast = true;
			return;
		}
	}
	*invalid = s->fg == HTML_COLOR_INVALID || s->bg == HTML_COLOR_INVALID;
}
