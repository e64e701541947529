/* The figures of a message's HTML (content/html.h; issue 11) that
 * SpamAssassin's HTML rules test: tags as written (not as a browser would
 * repair them), visible text, images, title, comments, link texts. */
#include <criterion/criterion.h>
#include <string.h>

#include "content/html.h"

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
