/*
 * HeaderEval's tests of a big free-mail provider's From address against
 * the Received chain (issue 11), in our own code. Each provider's own
 * servers leave known marks in the Received fields; a From address of
 * theirs on mail without them was sent elsewhere, which is what spam
 * forging a trusted sender looks like.
 *
 *   check_for_forged_yahoo_received_headers()
 *                                From @yahoo.com, no Yahoo relay or web
 *                                mail mark in the chain
 *   check_for_forged_hotmail_received_headers()
 *                                a hop claims to come from hotmail.com
 *                                without Hotmail/Outlook's own marks
 *   check_for_no_hotmail_received_headers()
 *                                From @hotmail.com, and no hop of
 *                                Hotmail/Outlook at all
 *   check_for_forged_gmail_received_headers()
 *                                From @gmail.com without Google's
 *                                X-Received / X-Gm-Message-State marks
 *
 * The chain is matched as SpamAssassin does: every Received value joined
 * with single spaces (at most VALUES_MAX fields of RULES_VALUE_MAX bytes).
 * Runs in the scanner's worker threads, one message each.
 */
#include "content/rules_impl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/relays.h"
#include "util/alloc.h"

#define VALUES_MAX 64
#define IPV4 "\\d{1,3}(?:\\.\\d{1,3}){3}"

/* Every value of the field name joined by single spaces, white space
 * runs made one space; "" if none. Caller frees. */
static char *joined(const struct rules_input *in, const char *name)
{
	char *v[VALUES_MAX];
	size_t n = rules_header_values(in, name, v, VALUES_MAX), len = 0;
	char *out = xmalloc(n * (RULES_VALUE_MAX + 1) + 1);
	for (size_t i = 0; i < n; i++) {
		for (const char *p = v[i]; *p; p++) {
			bool blank = *p == ' ' || *p == '\t';
			if (!blank)
				out[len++] = *p;
			else if (len && out[len - 1] != ' ')
				out[len++] = ' ';
		}
		if (len && out[len - 1] != ' ')
			out[len++] = ' ';
	}
	while (len && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
	rules_strings_free(v, n);
	return out;
}

/* Is the first From address at domain (or a subdomain of it)? */
static bool from_domain(const struct rules_input *in, const char *domain)
{
	char *addr[1];
	if (!rules_header_addrs(in, "From", addr, 1))
		return false;
	size_t al = strlen(addr[0]), dl = strlen(domain);
	bool at = al > dl && strcasecmp(addr[0] + al - dl, domain) == 0 &&
		  (addr[0][al - dl - 1] == '@' || addr[0][al - dl - 1] == '.');
	free(addr[0]);
	return at;
}

static bool has_value(const struct rules_input *in, const char *name)
{
	char *v[1];
	size_t n = rules_header_values(in, name, v, 1);
	bool set = n && v[0][0];
	rules_strings_free(v, n);
	return set;
}

/* A relay of the view whose verified name ends in suffix: only the first
 * untrusted one counts when first_only. */
static bool relay_rdns_in(const struct rules_input *in, bool trusted, bool first_only, const char *suffix)
{
	size_t sl = strlen(suffix);
	for (size_t i = 0; in->relays && i < in->relays->n; i++) {
		const struct relay *r = &in->relays->r[i];
		if (r->trusted != trusted)
			continue;
		size_t rl = strlen(r->rdns);
		if (rl > sl && strcasecmp(r->rdns + rl - sl, suffix) == 0)
			return true;
		if (first_only)
			return false;
	}
	return false;
}

static unsigned forged_yahoo(const struct rules_input *in, const char *const *a, size_t n)
{
	if (!from_domain(in, "yahoo.com") || rules_received_removed(in))
		return 0;
	if (relay_rdns_in(in, true, false, ".yahoo.com") || relay_rdns_in(in, false, true, ".yahoo.com"))
		return 0;
	char *rcvd = has_value(in, "Resent-From") && has_value(in, "Resent-To") && has_value(in, "X-Received") ?
			     joined(in, "X-Received") :
			     joined(in, "Received");
	static const char *const genuine[] = {
		"by web\\S+\\.mail\\S*\\.yahoo\\.com via HTTP",
		"by sonic\\S+\\.consmr\\.mail\\S*\\.yahoo\\.com with HTTP",
		"by smtp\\S+\\.yahoo\\.com with SMTP",
		"from \\[" IPV4 "\\] by \\S+\\.(?:groups|scd|dcn)\\.yahoo\\.com with NNFMP",
		"by \\w+\\.\\w+\\.yahoo\\.com \\(\\d+\\.\\d+\\.\\d+/\\d+\\.\\d+\\.\\d+\\)(?: with ESMTP)? id \\w+",
	};
	bool hit = true;
	for (size_t i = 0; i < sizeof(genuine) / sizeof(genuine[0]) && hit; i++)
		hit = !rules_re_search(genuine[i], 0, rcvd);
	if (hit && rules_re_search("\\bmailer\\d+\\.bulk\\.scd\\.yahoo\\.com\\b", 0, rcvd) &&
	    from_domain(in, "reply.yahoo.com"))
		hit = false;
	free(rcvd);
	return hit;
}

/* Is the chain rcvd one Hotmail/Outlook (or an MSN group) wrote, or one
 * whose relays cannot be judged? */
static bool hotmail_genuine(const struct rules_input *in, const char *rcvd)
{
	if (rules_re_search("from mail pickup service by hotmail\\.com with Microsoft SMTPSVC;", 0, rcvd) ||
	    rules_received_removed(in))
		return true;
	char *v[1];
	size_t nv = rules_header_values(in, "To", v, 1);
	bool msn_group = nv && strcasestr(v[0], "@groups.msn.com>") &&
			 rules_re_search("from mail pickup service by (?:p\\d\\d\\.)groups\\.msn\\.com\\b", 0, rcvd);
	rules_strings_free(v, nv);
	if (msn_group)
		return true;
	nv = rules_header_values(in, "X-Originating-Ip", v, 1);
	bool ip = nv && rules_re_search(IPV4, 0, v[0]);
	rules_strings_free(v, nv);
	nv = rules_header_values(in, "X-OriginatorOrg", v, 1);
	bool org = nv && rules_re_search("hotmail\\.com|msonline\\-outlook", 0, v[0]);
	rules_strings_free(v, nv);
	static const struct { const char *re; bool needs_org; } marks[] = {
		{ "from (?:\\S*\\.)?hotmail.com \\(\\S+\\.hotmail(?:\\.msn)?\\.com[ \\)]", false },
		{ "from \\S*\\.outbound\\.protection\\.outlook\\.com \\(\\S+\\.outbound\\.protection\\.outlook\\.com[ \\)]",
		  true },
		{ "from \\S*\\.(?:eur|nam)prd\\d+\\.prod\\.outlook\\.com \\(" IPV4 "\\)", true },
		{ "from \\S*\\.hotmail.com \\(\\[" IPV4 "\\][ \\):]", false },
		{ "from \\S+ by \\S+\\.hotmail(?:\\.msn)?\\.com with HTTP;", false },
		{ "from \\[66\\.218.\\S+\\] by \\S+\\.yahoo\\.com", false },
	};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if ((marks[i].needs_org ? org : ip) && rules_re_search(marks[i].re, 0, rcvd))
			return true;
	return false;
}

/* What the Hotmail tests find: 1 a hop claims hotmail.com without its
 * marks, 2 From @hotmail.com without any hop of theirs, 0 neither. */
static int hotmail_forgery(const struct rules_input *in)
{
	char *rcvd = joined(in, "Received");
	int what = 0;
	if (!hotmail_genuine(in, rcvd)) {
		if (rules_re_search("(?:from |HELO |helo=)\\S*hotmail\\.com\\b", 0, rcvd))
			what = 1;
		else if (from_domain(in, "hotmail.com"))
			what = 2;
	}
	free(rcvd);
	return what;
}

static unsigned forged_hotmail(const struct rules_input *in, const char *const *a, size_t n)
{
	return hotmail_forgery(in) == 1;
}

static unsigned no_hotmail(const struct rules_input *in, const char *const *a, size_t n)
{
	return hotmail_forgery(in) == 2;
}

/* Google's own marks are long: a forger's short copies do not count. */
#define GOOGLE_MARK_MIN 60

static unsigned forged_gmail(const struct rules_input *in, const char *const *a, size_t n)
{
	if (!from_domain(in, "gmail.com"))
		return 0;
	char *x = joined(in, "X-Received"), *r = joined(in, "Received");
	char *state = joined(in, "X-Gm-Message-State"), *source = joined(in, "X-Google-Smtp-Source");
	bool genuine = rules_re_search("by 10\\.\\S+ with SMTP id \\S+", 0, x) ||
		       rules_re_search("by 2002\\:a\\d\\d\\:\\w+\\:\\S+ with SMTP id \\S+", 0, x) ||
		       rules_re_search("by smtp\\.googlemail\\.com with ESMTPSA id \\S+", 0, r) ||
		       (strlen(state) >= GOOGLE_MARK_MIN && strlen(source) >= GOOGLE_MARK_MIN);
	free(x);
	free(r);
	free(state);
	free(source);
	return !genuine;
}

const struct rules_eval rules_eval_forged[] = {
	{ "check_for_forged_yahoo_received_headers", 0, 0, forged_yahoo, NULL },
	{ "check_for_forged_hotmail_received_headers", 0, 0, forged_hotmail, NULL },
	{ "check_for_no_hotmail_received_headers", 0, 0, no_hotmail, NULL },
	{ "check_for_forged_gmail_received_headers", 0, 0, forged_gmail, NULL },
	{ NULL, 0, 0, NULL, NULL },
};
