/*
 * What a message's HTML looks like as written (issue 11): the tags and
 * how they are balanced, the visible text, images, title, comments and
 * link texts — the figures SpamAssassin's HTML rules (its HTMLEval
 * plugin) test. One linear pass over each text/html part, every figure
 * and every kept text bounded.
 *
 * A tokenizer, not a tree builder: an HTML parser that builds a document
 * closes what was left open and adds the <html>, <head> and <body> a page
 * lacks, which hides exactly what these rules look for (spam whose tags
 * do not balance, a body without <html>). Text is what lies between tags,
 * outside <script> and <style>; entities count as one character.
 */
#ifndef MW_CONTENT_HTML_H
#define MW_CONTENT_HTML_H

#include <stdbool.h>
#include <stddef.h>

#define HTML_TAG_NAMES_MAX 128     /* distinct tag names counted per message */
#define HTML_TEXT_KEPT_MAX 4096    /* bytes kept of the title, the comments, the link texts */

struct html_tag_count {
	char name[16];                 /* lower case; longer names are not HTML elements */
	unsigned opened, closed;
	unsigned inside;               /* open now: +1 per start tag, -1 per end tag, never below 0 */
};

/* A piece of kept text: at most HTML_TEXT_KEPT_MAX bytes, NUL-terminated. */
struct html_text {
	char s[HTML_TEXT_KEPT_MAX + 1];
	size_t len;
};

struct html_view {
	bool html;                     /* a text/html part was scanned */
	struct html_tag_count tags[HTML_TAG_NAMES_MAX];
	size_t n_tags;
	size_t elements;               /* start and end tags */
	size_t unknown_elements;       /* of them, names that are no HTML element */
	size_t extra_closes;           /* end tags without a start tag open */
	size_t source_len;             /* bytes of HTML as written (SpamAssassin's "length") */
	size_t text_len;               /* visible text, each run of white space one byte */
	size_t non_space_len;          /* visible text without white space */
	size_t images;                 /* <img> tags */
	unsigned long long image_area; /* width x height of the images: 200 when not given, a
					* percentage of an 800 x 600 screen */
	int max_font_size;             /* largest <font size>, 1..7 (3 when none) */
	bool embeds;                   /* <embed>, <object>, <applet> */
	bool form_action_mailto;       /* <form action="mailto:..."> */
	bool font_face_bad;            /* <font face> that is no list of font names */
	bool font_low_contrast;        /* text shown in a colour (near) its background's (html_color.h) */
	bool font_invalid_color;       /* text shown in or on a colour that is none */
	struct html_text title;        /* the text in <title> */
	struct html_text comments;     /* "<!-- ... -->" and "<!...>" as written, one per line */
	struct html_text anchors;      /* the text of each <a>, one per line; an image in it as "<img>" */
};

void html_view_init(struct html_view *v);
/* Add one text/html part's content s[0..len). */
void html_scan(struct html_view *v, const char *s, size_t len);
/* How often a tag was opened and closed (0, 0 if never seen), and how
 * many are open at the end (an end tag with none open counts as an extra
 * close, not as -1: "</center><center>" leaves one open). */
void html_tag_counts(const struct html_view *v, const char *name, unsigned *opened, unsigned *closed);
unsigned html_tag_open(const struct html_view *v, const char *name);
/* The value of attribute name among a tag's attributes a[0..len),
 * unquoted, into out (cut to cap - 1 bytes); false if the tag lacks it. */
bool html_attribute(const char *a, size_t len, const char *name, char *out, size_t cap);

#endif
