/*
 * SpamAssassin's `eval:` tests on the HTML of a message (its HTMLEval
 * plugin) and on its MIME structure (of its MIMEEval plugin), in our own
 * code, on the figures content/html.h gathers and the parts content/mime.h
 * finds (issue 11). Ranges are (min, max]: above min, up to max, "inf"
 * allowed. A test name or figure we do not compute is refused when the
 * rules load (args_ok), so check-config names it instead of the rule
 * quietly never hitting.
 */
#include "content/rules_impl.h"

#include <stdlib.h>
#include <string.h>

#include "content/html.h"
#include "content/mime.h"

static bool number(const char *s, double *out)
{
	char *end;
	*out = strtod(s, &end);  /* "inf" included */
	return end != s;
}

static bool in_range(double v, const char *lo, const char *hi)
{
	double a, b;
	return number(lo, &a) && number(hi, &b) && v > a && v <= b;
}

static bool one_of(const char *s, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(s, *names) == 0)
			return true;
	return false;
}

/* "!= 0", "< 512", ">=3": compare v. */
static bool compare(double v, const char *expr)
{
	expr += strspn(expr, " ");
	size_t oplen = strspn(expr, "<>=!");
	double n;
	if (!oplen || !number(expr + oplen, &n))
		return false;
	if (strncmp(expr, "==", oplen) == 0 && oplen == 2)
		return v == n;
	if (strncmp(expr, "!=", oplen) == 0 && oplen == 2)
		return v != n;
	if (strncmp(expr, "<=", oplen) == 0 && oplen == 2)
		return v <= n;
	if (strncmp(expr, ">=", oplen) == 0 && oplen == 2)
		return v >= n;
	if (oplen == 1 && expr[0] == '<')
		return v < n;
	if (oplen == 1 && expr[0] == '>')
		return v > n;
	return false;
}

static bool expr_ok(const char *expr)
{
	expr += strspn(expr, " ");
	size_t oplen = strspn(expr, "<>=!");
	static const char *const ops[] = { "==", "!=", "<=", ">=", "<", ">", NULL };
	char op[3] = { 0 };
	double n;
	if (oplen == 0 || oplen > 2 || !number(expr + oplen, &n))
		return false;
	memcpy(op, expr, oplen);
	return one_of(op, ops);
}

/* --- HTMLEval ------------------------------------------------------------------------- */

static const struct html_view *html_of(const struct rules_input *in)
{
	return in->html && in->html->html ? in->html : NULL;
}

static const char *const html_tests[] = { "html", "embeds", "form_action_mailto", "font_face_bad",
					  "font_low_contrast", "font_invalid_color", NULL };

/* html_test(name): a yes/no figure of the HTML. */
static unsigned html_test(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct html_view *h = html_of(in);
	if (!h)
		return 0;
	if (strcmp(a[0], "html") == 0)
		return 1;
	if (strcmp(a[0], "embeds") == 0)
		return h->embeds;
	if (strcmp(a[0], "font_face_bad") == 0)
		return h->font_face_bad;
	if (strcmp(a[0], "font_low_contrast") == 0)
		return h->font_low_contrast;
	if (strcmp(a[0], "font_invalid_color") == 0)
		return h->font_invalid_color;
	return strcmp(a[0], "form_action_mailto") == 0 && h->form_action_mailto;
}

static bool html_test_ok(const char *const *a, size_t n)
{
	return one_of(a[0], html_tests);
}

static const char *const html_figures[] = { "length", "max_size", "bad_tag_ratio", "closed_extra_ratio", NULL };

static double figure(const struct html_view *h, const char *name)
{
	if (strcmp(name, "length") == 0)
		return (double)h->source_len;
	if (strcmp(name, "max_size") == 0)
		return h->max_font_size;
	double tags = h->elements ? (double)h->elements : 1;
	if (strcmp(name, "bad_tag_ratio") == 0)
		return (double)h->unknown_elements / tags;
	return (double)h->extra_closes / tags;  /* closed_extra_ratio */
}

static bool figure_ok(const char *const *a, size_t n)
{
	return one_of(a[0], html_figures) && (n < 2 || strchr("<>=!", a[1][strspn(a[1], " ")]) == NULL || expr_ok(a[1]));
}

/* html_range(figure, min, max) */
static unsigned html_range(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct html_view *h = html_of(in);
	return h && in_range(figure(h, a[0]), a[1], a[2]);
}

/* html_eval(figure, "< 512") */
static unsigned html_eval(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct html_view *h = html_of(in);
	return h && compare(figure(h, a[0]), a[1]);
}

static bool html_eval_ok(const char *const *a, size_t n)
{
	return one_of(a[0], html_figures) && expr_ok(a[1]);
}

/* html_tag_exists(tag) */
static unsigned html_tag_exists(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct html_view *h = html_of(in);
	unsigned opened, closed;
	if (!h)
		return 0;
	html_tag_counts(h, a[0], &opened, &closed);
	return opened + closed > 0;
}

/* html_tag_balance(tag, "!= 0"): how many are left open (of a tag seen). */
static unsigned html_tag_balance(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct html_view *h = html_of(in);
	unsigned opened, closed;
	if (!h)
		return 0;
	html_tag_counts(h, a[0], &opened, &closed);
	return opened + closed > 0 && compare((double)html_tag_open(h, a[0]), a[1]);
}

static bool balance_ok(const char *const *a, size_t n)
{
	return expr_ok(a[1]);
}

/* html_image_only(min, max): images, in HTML of a length in range. */
static unsigned html_image_only(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct html_view *h = html_of(in);
	return h && h->images && in_range((double)h->source_len, a[0], a[1]);
}

/* html_image_ratio(min, max): visible characters per pixel of image. */
static unsigned html_image_ratio(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct html_view *h = html_of(in);
	return h && h->image_area && in_range((double)h->non_space_len / (double)h->image_area, a[0], a[1]);
}

static const char *const text_areas[] = { "title", "comment", "anchor", NULL };

/* html_text_match(area, regex): the regex (as written, no delimiters)
 * matches the title, the comments or the link texts. Compiled per call:
 * only a few rules use it, and only on mail with such text. */
static unsigned html_text_match(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct html_view *h = html_of(in);
	if (!h)
		return 0;
	const struct html_text *t = strcmp(a[0], "title") == 0     ? &h->title
				    : strcmp(a[0], "comment") == 0 ? &h->comments
								   : &h->anchors;
	if (!t->len)
		return 0;
	int err;
	PCRE2_SIZE at;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)a[1], PCRE2_ZERO_TERMINATED, 0, &err, &at, NULL);
	if (!re)
		return 0;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)t->s, t->len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc >= 0;
}

static bool text_match_ok(const char *const *a, size_t n)
{
	int err;
	PCRE2_SIZE at;
	if (!one_of(a[0], text_areas))
		return false;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)a[1], PCRE2_ZERO_TERMINATED, 0, &err, &at, NULL);
	pcre2_code_free(re);
	return re != NULL;
}

/* --- MIMEEval ----------------------------------------------------------------------- */

static void count_text_parts(const struct rules_input *in, size_t *plain, size_t *html, size_t *plain_bytes)
{
	*plain = *html = *plain_bytes = 0;
	for (size_t i = 0; in->mime && i < in->mime->n_parts; i++) {
		const struct mime_part *p = &in->mime->parts[i];
		if (p->attachment)
			continue;
		if (strcmp(p->type, "text/plain") == 0) {
			(*plain)++;
			*plain_bytes += p->len;
		} else if (strcmp(p->type, "text/html") == 0)
			(*html)++;
	}
}

/* check_for_mime_html(): a text/html part. */
static unsigned mime_html(const struct rules_input *in, const char *const *a, size_t n)
{
	size_t plain, html, bytes;
	count_text_parts(in, &plain, &html, &bytes);
	return html > 0;
}

/* check_for_mime_html_only(): text/html parts and no text/plain one. */
static unsigned mime_html_only(const struct rules_input *in, const char *const *a, size_t n)
{
	size_t plain, html, bytes;
	count_text_parts(in, &plain, &html, &bytes);
	return html > 0 && plain == 0;
}

/* check_mime_multipart_ratio(min, max): the plain text's size against
 * the HTML's visible text, when a message has both; [min, max). */
static unsigned mime_multipart_ratio(const struct rules_input *in, const char *const *a, size_t n)
{
	size_t plain, html, bytes;
	double lo, hi;
	count_text_parts(in, &plain, &html, &bytes);
	if (!plain || !html || !in->html || !in->html->text_len || !number(a[0], &lo) || !number(a[1], &hi))
		return 0;
	double ratio = (double)bytes / (double)in->html->text_len;
	return ratio >= lo && ratio < hi;
}

static const char *const mime_figures[] = { "mime_base64_count", "mime_qp_count", "mime_attachment",
					    "mime_base64_encoded_text", "mime_qp_long_line", NULL };

/* No charset, or a name of US-ASCII: text that never needed base64. */
static bool ascii_charset(const char *cs)
{
	static const char *const ascii[] = { "us-ascii", "ansi_x3.4-1968", "iso-ir-6", "ansi_x3.4-1986",
					     "iso_646.irv:1991", "ascii", "iso646-us", "us", "ibm367", "cp367",
					     "csascii", NULL };
	return !cs[0] || one_of(cs, ascii);
}

/* check_for_mime(figure): base64 or quoted-printable parts, an attachment,
 * text in US-ASCII sent base64 (nothing that needed the encoding), a
 * quoted-printable line too long (content/mime.h). */
static unsigned mime_figure(const struct rules_input *in, const char *const *a, size_t n)
{
	unsigned hits = 0;
	for (size_t i = 0; in->mime && i < in->mime->n_parts; i++) {
		const struct mime_part *p = &in->mime->parts[i];
		if (strcmp(a[0], "mime_base64_count") == 0)
			hits += p->encoding == MIME_ENC_BASE64;
		else if (strcmp(a[0], "mime_qp_count") == 0)
			hits += p->encoding == MIME_ENC_QP;
		else if (strcmp(a[0], "mime_attachment") == 0)
			hits += p->attachment || p->filename;
		else if (strcmp(a[0], "mime_qp_long_line") == 0)
			hits += p->qp_long_line;
		else  /* base64 text in US-ASCII, not marked as an attachment or inline part */
			hits += p->encoding == MIME_ENC_BASE64 && strncmp(p->type, "text/", 5) == 0 && !p->disposition &&
				ascii_charset(p->charset);
	}
	return hits > 0;
}

static bool mime_figure_ok(const char *const *a, size_t n)
{
	return one_of(a[0], mime_figures);
}

const struct rules_eval rules_evals_html[] = {
	{ "html_test", 1, 1, html_test, html_test_ok },
	{ "html_range", 3, 3, html_range, figure_ok },
	{ "html_eval", 2, 2, html_eval, html_eval_ok },
	{ "html_tag_exists", 1, 1, html_tag_exists, NULL },
	{ "html_tag_balance", 2, 2, html_tag_balance, balance_ok },
	{ "html_image_only", 2, 2, html_image_only, NULL },
	{ "html_image_ratio", 2, 2, html_image_ratio, NULL },
	{ "html_text_match", 2, 2, html_text_match, text_match_ok },
	{ "check_for_mime_html", 0, 0, mime_html, NULL },
	{ "check_for_mime_html_only", 0, 0, mime_html_only, NULL },
	{ "check_mime_multipart_ratio", 2, 2, mime_multipart_ratio, NULL },
	{ "check_for_mime", 1, 1, mime_figure, mime_figure_ok },
	{ NULL, 0, 0, NULL, NULL },
};
