/* The figures of a message's HTML (content/html.h; issue 11) that
 * SpamAssassin's HTML rules test: tags as written (not as a browser would
 * repair them), visible text, images, title, comments, link texts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "content/html.h"
#include "content/html_color.h"

static struct html_view v;

static void scan(const char *html)
{
	html_view_init(&v);
	html_scan(&v, html, strlen(html));
}

Test(html, tags_are_counted_as_written_not_repaired)
{
	scan("<center><p>Hi</center></center><blink>x</blink><foo>y</foo><BODY>");
	unsigned o, c;
	html_tag_counts(&v, "center", &o, &c);
	cr_assert(o == 1 && c == 2, "one <center>, two </center>");
	html_tag_counts(&v, "body", &o, &c);
	cr_assert(o == 1 && c == 0, "an unclosed <body> stays unclosed (a tree builder would close it)");
	html_tag_counts(&v, "html", &o, &c);
	cr_assert(o == 0 && c == 0, "no <html> is made up");
	cr_assert_eq(v.elements, 9);
	cr_assert_eq(v.unknown_elements, 2, "<foo> and </foo>");
	cr_assert_eq(v.extra_closes, 1, "the second </center>");
	cr_assert_eq(v.source_len, strlen("<center><p>Hi</center></center><blink>x</blink><foo>y</foo><BODY>"));
	cr_assert_eq(html_tag_open(&v, "center"), 0, "an extra close does not go below none open");
	cr_assert_eq(html_tag_open(&v, "body"), 1);
	scan("</center><center>");
	cr_assert_eq(html_tag_open(&v, "center"), 1, "the close before any open is an extra one, not -1");
}

Test(html, visible_text_skips_script_style_and_title)
{
	scan("<title>Big  Offer</title><style>p{color:red}</style><script>var a='<b>';</script>"
	     "<p>Buy   now&nbsp;&amp; save</p>");
	cr_assert_str_eq(v.title.s, "Big  Offer");
	cr_assert_eq(v.non_space_len, strlen("Buynow&save"));
	cr_assert_eq(v.text_len, strlen("Buy now & save"), "white space runs count once");
	unsigned o, c;
	html_tag_counts(&v, "b", &o, &c);
	cr_assert_eq(o, 0, "a tag inside <script> is script text");
}

Test(html, images_comments_anchors_and_attributes)
{
	scan("<!DOCTYPE html><!-- saved from url=(0022)http://x/ --><a href=x>Click <IMG src=a.gif></a>"
	     "<img width=\"100\" height=50><img width=50%><font size=+3 face='Arial, Helvetica'>"
	     "<font face=\"@#$ bad\"><form action=' MAILTO:a@b'><embed src=x>");
	cr_assert_eq(v.images, 3);
	cr_assert_eq(v.image_area, 200ULL * 200 + 100ULL * 50 + 400ULL * 200, "200 x 200 when not given, %% of 800 x 600");
	cr_assert(strstr(v.comments.s, "<!DOCTYPE html>\n") != NULL);
	cr_assert(strstr(v.comments.s, "<!-- saved from url=(0022)http://x/ -->") != NULL);
	cr_assert_str_eq(v.anchors.s, "Click <img>\n");
	cr_assert_eq(v.max_font_size, 6);
	cr_assert(v.font_face_bad);
	cr_assert(v.form_action_mailto);
	cr_assert(v.embeds);
}

Test(html, good_font_faces_and_defaults)
{
	scan("<font face='\"Tahoma\", Verdana, sans-serif'><font face=.SFUIDisplay><font face=Arial;>text");
	cr_assert_not(v.font_face_bad);
	cr_assert_eq(v.max_font_size, 3, "no size: the default 3");
	cr_assert_not(v.embeds);
	cr_assert_not(v.form_action_mailto);
}

/* Hostile input: unclosed quotes, comments and tags end at the part's
 * end; kept texts are bounded. */
Test(html, broken_markup_is_bounded)
{
	static char big[3 * HTML_TEXT_KEPT_MAX];
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "<title>", 7);
	scan(big);
	cr_assert_eq(v.title.len, HTML_TEXT_KEPT_MAX);
	scan("<a href=\"never closed><p>x");
	cr_assert_eq(v.elements, 2, "the unclosed quote does not swallow the rest");
	scan("<!-- never closed <p>x");
	cr_assert_eq(v.elements, 0);
	scan("<p");
	cr_assert_eq(v.elements, 1);
}

/* --- colours (content/html_color.h): SpamAssassin's font_low_contrast
 * and font_invalid_color (HTML_FONT_LOW_CONTRAST, T_KAM_HTML_FONT_INVALID;
 * SCAN-5) --- */

Test(html_color, colour_forms_parse_as_browsers_of_old_read_them)
{
	cr_assert_eq(html_color_parse(" White ", 7), 0xffffff, "names in any case, spaces around");
	cr_assert_eq(html_color_parse("lightgoldenrodyellow", 20), 0xfafad2);
	cr_assert_eq(html_color_parse("#abc", 4), 0xaabbcc, "three digits stand for six");
	cr_assert_eq(html_color_parse("#12345678", 9), 0x123456, "cut to six");
	cr_assert_eq(html_color_parse("#1234", 5), 0x112233, "four digits cut to three");
	cr_assert_eq(html_color_parse("#12", 3), 0x112200, "padded with 0 to three");
	cr_assert_eq(html_color_parse("rgb(255, 0, 16)", 15), 0xff0010);
	cr_assert_eq(html_color_parse("rgb(50%, 100%, 0%)", 18), 0x7fff00);
	cr_assert_eq(html_color_parse("#", 1), HTML_COLOR_EMPTY);
	cr_assert_eq(html_color_parse("ffffff", 6), HTML_COLOR_INVALID, "hex without '#' is no colour");
	cr_assert_eq(html_color_parse("whyte", 5), HTML_COLOR_INVALID);
	cr_assert_eq(html_color_parse("rebeccapurple", 13), HTML_COLOR_INVALID, "CSS 4 names are not known");
	cr_assert_eq(html_color_parse("rgb(1,2)", 8), HTML_COLOR_INVALID);
	cr_assert_eq(html_color_parse("", 0), HTML_COLOR_INVALID);
}

Test(html_color, white_on_white_is_low_contrast)
{
	scan("<html><body><p>Hello</p><font color=\"#ffffff\">hidden words</font></body></html>");
	cr_assert(v.font_low_contrast, "white text on the default white page");
	cr_assert_not(v.font_invalid_color);
	scan("<div style=\"background-color: #000000\"><span style='color:#0a0a0a'>x</span></div>");
	cr_assert(v.font_low_contrast, "near-black on black: distance under 12");
	scan("<table><tr><td style=\"background: url('a,b.png') no-repeat, #ff0000 center\">"
	     "<font color=red>x</font></td></tr></table>");
	cr_assert(v.font_low_contrast, "the bottom layer of background: gives the colour");
	scan("<p style=\"color: transparent\">x</p>");
	cr_assert(v.font_low_contrast, "transparent text takes the background's colour");
}

Test(html_color, readable_colours_and_closed_tags_are_not)
{
	scan("<font color=\"#ffffff\"></font><font color=\"#ffffff\">   &nbsp; </font><p>Black on white</p>");
	cr_assert_not(v.font_low_contrast, "white text that shows nothing, then ordinary text");
	scan("<div style=\"background-color:black\"><font color=white>x</font></div><font color=gray>y</font>");
	cr_assert_not(v.font_low_contrast);
	scan("<body bgcolor=\"#ffffff\" text=\"#000000\"><font color=\"#202020\">x</font>");
	cr_assert_not(v.font_low_contrast, "distance about 23");
	scan("<body bgcolor=black><font color=black>x</font>");
	cr_assert_not(v.font_low_contrast, "bgcolor= is not applied (as SpamAssassin 4)");
	scan("<font color=white><b>bold</b></font>x");
	cr_assert(v.font_low_contrast, "white text inside");
	scan("<font color=white></font>x<table><tr><td><font color=white><td>y</td></tr></table>");
	cr_assert_not(v.font_low_contrast, "a new cell closes the font left open in the one before");
}

Test(html_color, invalid_colours_are_flagged_when_text_shows)
{
	scan("<font color=\"ffffff\">x</font>");
	cr_assert(v.font_invalid_color, "hex without '#'");
	cr_assert_not(v.font_low_contrast);
	scan("<span style=\"color: blak\">x</span>");
	cr_assert(v.font_invalid_color);
	scan("<span style=\"color: red !important; background-color: inherit\">x</span>");
	cr_assert_not(v.font_invalid_color, "!important and inherit are valid CSS");
	scan("<font color=\"bad\"></font>text");
	cr_assert_not(v.font_invalid_color, "no text shown in it");
	scan("<div style=\"background-color: nocolour\"><font color=bad>x</font></div>");
	cr_assert(v.font_low_contrast, "two invalid colours count as the same colour");
}

Test(html_color, deep_nesting_is_bounded)
{
	static char page[64 * 1024];
	size_t n = 0;
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(page + n, sizeof(page) - n, "<font color=%s>", i % 2 ? "red" : "blue");
	n += (size_t)snprintf(page + n, sizeof(page) - n, "<font color=white>x");
	html_view_init(&v);
	html_scan(&v, page, n);
	cr_assert(v.font_low_contrast, "the innermost colour holds past the stack's depth");
}
