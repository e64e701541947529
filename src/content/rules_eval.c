/*
 * SpamAssassin's `eval:` tests that run on the message alone, in our own
 * code (issue 11): the ones of its HeaderEval, BodyEval and MIMEEval
 * plugins that Debian's rules use, as far as done. A rule naming another
 * eval is left out and noted (rules.c). Each test gets the rules' input
 * and its arguments (quotes taken off) and returns its hit count.
 */
#include "content/rules_impl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "content/check.h"

/* The plugins whose `ifplugin` blocks are read: rules in them run, with
 * the eval tests below; the rest of their evals are noted one by one. */
static const char *const provided[] = {
	"Mail::SpamAssassin::Plugin::HeaderEval",
	"Mail::SpamAssassin::Plugin::BodyEval",
	"Mail::SpamAssassin::Plugin::MIMEEval",
	"Mail::SpamAssassin::Plugin::ReplaceTags",  /* rules_replace.c */
	"Mail::SpamAssassin::Plugin::HTMLEval",     /* rules_eval_html.c */
	"Mail::SpamAssassin::Plugin::FreeMail",     /* rules_eval_freemail.c */
	"Mail::SpamAssassin::Plugin::DKIM",         /* rules_eval_dkim.c */
	"Mail::SpamAssassin::Plugin::MIMEHeader",   /* mimeheader rules (rules.c, rules_match.c) */
	"Mail::SpamAssassin::Plugin::RelayEval",    /* rules_eval_relay.c */
};

bool rules_plugin_provided(const char *plugin)
{
	for (size_t i = 0; i < sizeof(provided) / sizeof(provided[0]); i++)
		if (strcmp(plugin, provided[i]) == 0)
			return true;
	return false;
}

/* "undef" or a number. */
static bool number(const char *s, double *out)
{
	if (!s || strcmp(s, "undef") == 0)
		return false;
	char *end;
	*out = strtod(s, &end);
	return end != s;
}

/* --- HeaderEval -------------------------------------------------------------- */

/* check_header_count_range(header, min, max): the field occurs min..max times. */
static unsigned header_count_range(const struct rules_input *in, const char *const *a, size_t n)
{
	double lo, hi;
	size_t count = content_header_count(in->header, in->header_len, a[0]);
	return number(a[1], &lo) && number(a[2], &hi) && (double)count >= lo && (double)count <= hi;
}

/* check_illegal_chars(header, ratio, count): 8-bit bytes in a header that
 * should be ASCII (RFC 5322 2.2): at least count of them, and at least
 * ratio of its bytes. ALL: the whole header section. */
static unsigned illegal_chars(const struct rules_input *in, const char *const *a, size_t n)
{
	double ratio, min;
	if (!number(a[1], &ratio) || !number(a[2], &min))
		return 0;
	size_t len = 0;
	char *value = NULL;
	const char *text = in->header;
	if (strcmp(a[0], "ALL") == 0) {
		len = in->header_len;
	} else {
		value = content_header_unfold(in->header, in->header_len, a[0], &len);
		text = value;
	}
	size_t bad = 0;
	for (size_t i = 0; text && i < len; i++)
		bad += (unsigned char)text[i] >= 0x80;
	free(value);
	return len && (double)bad >= min && (double)bad / (double)len >= ratio;
}

/* The date after the last ';' of each Received field (at most 64), as
 * Unix time, into out; returns how many. */
static size_t received_times(const struct rules_input *in, gint64 *out, size_t cap)
{
	const char *h = in->header;
	size_t len = in->header_len, n = 0;
	for (size_t pos = 0; pos < len && n < cap;) {
		const char *lf = memchr(h + pos, '\n', len - pos);
		size_t end = lf ? (size_t)(lf - h) + 1 : len, voff;
		while (end < len && (h[end] == ' ' || h[end] == '\t')) {  /* continuation lines */
			lf = memchr(h + end, '\n', len - end);
			end = lf ? (size_t)(lf - h) + 1 : len;
		}
		if (content_field_is(h + pos, end - pos, "Received", &voff)) {
			char value[2048];
			size_t vn = end - pos - voff < sizeof(value) - 1 ? end - pos - voff : sizeof(value) - 1;
			memcpy(value, h + pos + voff, vn);
			value[vn] = '\0';
			const char *semi = strrchr(value, ';');
			GDateTime *t = semi ? g_mime_utils_header_decode_date(semi + 1) : NULL;
			if (t) {
				out[n++] = g_date_time_to_unix(t);
				g_date_time_unref(t);
			}
		}
		pos = end;
	}
	return n;
}

/* How far Date lies from when the message passed a relay, in seconds
 * (negative: in the past): of the Received fields' dates, the nearest
 * one counts, as SpamAssassin does. false: no Date or no relay date. */
static bool date_shift(const struct rules_input *in, int64_t *shift)
{
	size_t len;
	char *v = content_header_unfold(in->header, in->header_len, "Date", &len);
	GDateTime *d = v ? g_mime_utils_header_decode_date(v) : NULL;
	free(v);
	gint64 rcvd[64];
	size_t nr = d ? received_times(in, rcvd, 64) : 0;
	if (!d || !nr) {
		if (d)
			g_date_time_unref(d);
		return false;
	}
	gint64 date = g_date_time_to_unix(d);
	g_date_time_unref(d);
	gint64 diff = date - rcvd[0];
	for (size_t i = 1; i < nr; i++)
		if (llabs(date - rcvd[i]) < llabs(diff))
			diff = date - rcvd[i];
	*shift = diff;
	return true;
}

/* check_for_shifted_date(min, max): Date: lies min..max hours from when
 * the message passed a relay; "undef" leaves a side open. The shift is
 * the message's, worked out by the first of these rules (in->memo). */
static unsigned shifted_date(const struct rules_input *in, const char *const *a, size_t n)
{
	struct rules_memo own = { 0 }, *memo = in->memo ? in->memo : &own;
	if (!memo->date_shift_known) {
		memo->date_shift_ok = date_shift(in, &memo->date_shift);
		memo->date_shift_known = true;
	}
	if (!memo->date_shift_ok)
		return 0;
	double hours = (double)memo->date_shift / 3600.0, lo, hi;
	return (!number(a[0], &lo) || hours >= lo) && (!number(a[1], &hi) || hours < hi);
}

/* --- BodyEval / MIMEEval --------------------------------------------------------- */

/* check_body_length(max): less than max bytes of decoded text. */
static unsigned body_length(const struct rules_input *in, const char *const *a, size_t n)
{
	double max;
	size_t total = 0;
	for (size_t i = 0; i < in->n_rawbody; i++)
		total += in->rawbody_len[i];
	return number(a[0], &max) && (double)total < max;
}

/* check_for_uppercase(min, max): of the letters in the rendered body (at
 * least 200 bytes of it, as SpamAssassin), min..max per cent upper case. */
static unsigned uppercase(const struct rules_input *in, const char *const *a, size_t n)
{
	double lo, hi;
	size_t upper = 0, letters = 0, total = 0;
	for (size_t i = 1; i < in->n_body; i++) {  /* paragraph 0 is the Subject */
		total += in->body_len[i];
		for (size_t j = 0; j < in->body_len[i]; j++) {
			unsigned char c = (unsigned char)in->body[i][j];
			letters += isalpha(c) != 0;
			upper += isupper(c) != 0;
		}
	}
	if (total < 200 || !letters || !number(a[0], &lo) || !number(a[1], &hi))
		return 0;
	double pct = 100.0 * (double)upper / (double)letters;
	return pct >= lo && pct <= hi;
}

/* check_msg_parse_flags(flag): of SpamAssassin's flags, the one we know
 * exactly: a message without the empty line between header and body. */
static unsigned parse_flags(const struct rules_input *in, const char *const *a, size_t n)
{
	if (strcmp(a[0], "missing_head_body_separator") != 0)
		return 0;
	size_t end = content_header_end(in->full, in->full_len);
	bool separated = end >= 2 && in->full[end - 1] == '\n' && (in->full[end - 2] == '\n' ||
								   (end >= 3 && in->full[end - 2] == '\r' &&
								    in->full[end - 3] == '\n'));
	return !separated;
}

static const struct rules_eval evals[] = {
	{ "check_header_count_range", 3, 3, header_count_range, NULL },
	{ "check_illegal_chars", 3, 3, illegal_chars, NULL },
	{ "check_for_shifted_date", 2, 2, shifted_date, NULL },
	{ "check_body_length", 1, 1, body_length, NULL },
	{ "check_for_uppercase", 2, 2, uppercase, NULL },
	{ "check_msg_parse_flags", 1, 1, parse_flags, NULL },
	{ NULL, 0, 0, NULL, NULL },
};

/* Every table of eval tests, each ending with a NULL name. */
static const struct rules_eval *const tables[] = {
	evals,
	rules_eval_freemail,
	rules_eval_header,
	rules_evals_html,
	rules_eval_dkim,
	rules_eval_relay,
	rules_eval_forged,
};

const struct rules_eval *rules_eval_find(const char *name, size_t n_args)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct rules_eval *e = tables[t]; e->name; e++)
			if (strcmp(e->name, name) == 0)
				return n_args >= e->min_args && n_args <= e->max_args ? e : NULL;
	return NULL;
}
