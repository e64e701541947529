/*
 * More of SpamAssassin's HeaderEval tests, in our own code (issue 11),
 * and the bounded header access the eval tests share (rules_impl.h).
 *
 *   check_outlook_message_id()      a Message-Id in Outlook's form whose
 *                                   time stamp fits neither Date nor the
 *                                   first relay's time: made up by ratware
 *   subject_is_all_caps()           a Subject of several words, 10 bytes or
 *                                   more, with letters and none in lower
 *                                   case (reply prefixes left aside)
 *   check_for_missing_to_header()   neither To nor Apparently-To has a value
 *   check_for_to_in_subject(how)    the Subject names the recipient: 'user'
 *                                   the local part of To, as a greeting or
 *                                   alone; 'address' the whole address
 *   check_ratware_envelope_from()   the envelope sender is made of the
 *                                   recipient's domain and user name
 *                                   ("example.com.joe@..." for joe@example.com)
 *   check_for_matching_env_and_hdr_from()
 *                                   the envelope sender is the From address
 *   check_equal_from_domains()      the envelope sender's and From's domains
 *                                   differ in their last two labels
 *   check_unresolved_template()     a header line holds a mail merge
 *                                   placeholder left unfilled ("%FROM_NAME")
 *   check_ratware_name_id()         Message-Id "<28 capitals.X>" with From
 *                                   '"Name" <X>': one spam tool's signature
 *   gated_through_received_hdr_remover()
 *                                   no Received field (or a gateway known to
 *                                   strip them: ezmlm lists, MSN groups), so
 *                                   tests of the relays cannot judge
 *   sorted_recipients()             7 or more To/Cc addresses in sorted order
 *   similar_recipients(min, max)    of 5 or more To/Cc addresses, the share
 *                                   of pairs alike (same first two letters of
 *                                   user or host) in min..max: a list harvested
 *                                   in alphabetical order
 *
 * Each runs in the scanner's worker threads on one message; nothing here
 * keeps state between messages but the compiled patterns of the code's
 * own literals (const_search).
 */
#include "content/rules_impl.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "content/address_list.h"
#include "content/check.h"
#include "util/alloc.h"

#define VALUES_MAX 64
#define MATCH_LIMIT 100000

/* --- header access ------------------------------------------------------------ */

/* The end of the field starting at pos: past its continuation lines. */
static size_t field_end(const char *h, size_t len, size_t pos)
{
	const char *lf = memchr(h + pos, '\n', len - pos);
	size_t end = lf ? (size_t)(lf - h) + 1 : len;
	while (end < len && (h[end] == ' ' || h[end] == '\t')) {
		lf = memchr(h + end, '\n', len - end);
		end = lf ? (size_t)(lf - h) + 1 : len;
	}
	return end;
}

/* v[0..len) without line breaks and leading blanks, at most RULES_VALUE_MAX bytes. */
static char *unfolded(const char *v, size_t len)
{
	char *out = xmalloc(RULES_VALUE_MAX + 1);
	size_t n = 0, i = 0;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	for (; i < len && n < RULES_VALUE_MAX; i++)
		if (v[i] != '\r' && v[i] != '\n')
			out[n++] = v[i];
	out[n] = '\0';
	return out;
}

size_t rules_header_values(const struct rules_input *in, const char *name, char **out, size_t cap)
{
	const char *h = in->header;
	size_t len = in->header_len, n = 0, voff;
	for (size_t pos = 0; pos < len && n < cap;) {
		size_t end = field_end(h, len, pos);
		if (content_field_is(h + pos, end - pos, name, &voff))
			out[n++] = unfolded(h + pos + voff, end - pos - voff);
		pos = end;
	}
	return n;
}

void rules_strings_free(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* The addresses in the fields named name, at most cap, lower-cased if fold. */
static size_t parse_addrs(const struct rules_input *in, const char *name, char **out, size_t cap, bool fold)
{
	char *values[VALUES_MAX];
	size_t nv = rules_header_values(in, name, values, VALUES_MAX), n = 0;
	for (size_t i = 0; i < nv; i++) {
		struct address_list l = { 0 };
		if (address_list_parse(values[i], strlen(values[i]), &l))
			for (size_t j = 0; j < l.n && n < cap; j++) {
				out[n] = xstrdup(l.addrs[j]);
				if (fold)
					lower(out[n]);
				n++;
			}
		address_list_free(&l);
	}
	rules_strings_free(values, nv);
	return n;
}

/* The most addresses a test asks for (RECIPIENTS_MAX): a list kept this
 * long answers any of them with its first cap. */
#define MEMO_ADDRS_CAP 256

/* The message's addresses of name, parsed by the first test that asks
 * (in->memo); NULL: no memo, or no room left in it. */
static const struct rules_memo_addrs *memo_addrs(const struct rules_input *in, const char *name, bool fold)
{
	struct rules_memo *m = in->memo;
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_addrs; i++)
		if (m->addrs[i].fold == fold && strcmp(m->addrs[i].name, name) == 0)
			return &m->addrs[i];
	if (m->n_addrs == RULES_MEMO_FIELDS)
		return NULL;
	struct rules_memo_addrs *e = &m->addrs[m->n_addrs++];
	e->name = xstrdup(name);
	e->fold = fold;
	e->a = xreallocarray(NULL, MEMO_ADDRS_CAP, sizeof(*e->a));
	e->n = parse_addrs(in, name, e->a, MEMO_ADDRS_CAP, fold);
	return e;
}

/* parse_addrs(), from the memo where it can answer. */
static size_t addrs_of(const struct rules_input *in, const char *name, char **out, size_t cap, bool fold)
{
	const struct rules_memo_addrs *e = cap <= MEMO_ADDRS_CAP ? memo_addrs(in, name, fold) : NULL;
	if (!e)
		return parse_addrs(in, name, out, cap, fold);
	size_t n = e->n < cap ? e->n : cap;
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(e->a[i]);
	return n;
}

void rules_memo_free(struct rules_memo *m)
{
	for (size_t i = 0; i < m->n_addrs; i++) {
		rules_strings_free(m->addrs[i].a, m->addrs[i].n);
		free(m->addrs[i].a);
		free(m->addrs[i].name);
	}
	m->n_addrs = 0;
}

size_t rules_header_addrs(const struct rules_input *in, const char *name, char **out, size_t cap)
{
	return addrs_of(in, name, out, cap, true);
}

/* The first value of name (NULL: none). */
static char *first_value(const struct rules_input *in, const char *name)
{
	char *v = NULL;
	return rules_header_values(in, name, &v, 1) ? v : NULL;
}

/* The first address of name, lower-cased (NULL: none). */
static char *first_addr(const struct rules_input *in, const char *name)
{
	char *addrs[1];
	return rules_header_addrs(in, name, addrs, 1) ? addrs[0] : NULL;
}

/* Does a field named name come before every Received field? A field
 * below a Received one was there before the last relay: another hop's
 * envelope, not ours. */
static bool above_received(const struct rules_input *in, const char *name)
{
	const char *h = in->header;
	size_t len = in->header_len, voff;
	for (size_t pos = 0; pos < len;) {
		size_t end = field_end(h, len, pos);
		if (content_field_is(h + pos, end - pos, "Received", &voff))
			return false;
		if (content_field_is(h + pos, end - pos, name, &voff))
			return true;
		pos = end;
	}
	return false;
}

/* Fetched by fetchmail, which writes a guessed envelope from X-Sender
 * (a list's original sender): no header tells the envelope then. */
static bool fetchmail_guess(const struct rules_input *in)
{
	char *sender = first_value(in, "X-Sender"), *rcvd[VALUES_MAX];
	bool guess = false;
	if (sender && strchr(sender, '@')) {
		size_t nr = rules_header_values(in, "Received", rcvd, VALUES_MAX);
		for (size_t i = 0; i < nr && !guess; i++)
			guess = strstr(rcvd[i], "(fetchmail") != NULL;
		rules_strings_free(rcvd, nr);
	}
	free(sender);
	return guess;
}

/* Without the SMTP envelope (a saved message), SpamAssassin's order:
 * X-Envelope-From, Envelope-Sender, then Return-Path, each only where it
 * stands above the Received fields (written by the final delivery). */
char *rules_envelope_from(const struct rules_input *in)
{
	if (in->envelope_from && in->envelope_from[0])
		return xstrdup(in->envelope_from);
	if (fetchmail_guess(in))
		return NULL;
	static const char *const fields[] = { "X-Envelope-From", "Envelope-Sender", "Return-Path" };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char *addr[1];
		if (!addrs_of(in, fields[i], addr, 1, false))
			continue;
		if (above_received(in, fields[i]))
			return addr[0];
		free(addr[0]);
		if (i == 0)
			return NULL;  /* an X-Envelope-From from an earlier hop hides the others */
	}
	return NULL;
}

/* --- the tests --------------------------------------------------------------- */

static bool blank(const char *s)
{
	return !s || !s[strspn(s, " \t\r\n")];
}

static unsigned missing_to(const struct rules_input *in, const char *const *a, size_t n)
{
	char *to = first_value(in, "To");
	char *apparently = blank(to) ? first_value(in, "Apparently-To") : NULL;
	bool missing = blank(to) && blank(apparently);
	free(to);
	free(apparently);
	return missing;
}

/* The Subject, RFC 2047 words decoded; NULL if there is none. */
static char *subject_text(const struct rules_input *in, char **raw_out)
{
	char *raw = first_value(in, "Subject");
	if (!raw)
		return NULL;
	char *decoded = g_mime_utils_header_decode_text(NULL, raw);
	char *text = xstrdup(decoded ? decoded : raw);
	g_free(decoded);
	*raw_out = raw;
	return text;
}

static bool re_matches(const pcre2_code *re, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, MATCH_LIMIT);
	int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, mc);
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static pcre2_code *compiled(const char *pattern, uint32_t flags)
{
	int code;
	PCRE2_SIZE off;
	return pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags, &code, &off, NULL);
}

/* A pattern made for this message (it names the recipient). */
static bool re_search(const char *pattern, uint32_t flags, const char *s)
{
	pcre2_code *re = compiled(pattern, flags);
	bool hit = re && re_matches(re, s);
	pcre2_code_free(re);
	return hit;
}

/* Patterns written in this code (literals, static tables) are compiled
 * once per process, not once per message: the Hotmail tests alone
 * compiled up to ten per message, a compile costing more than the
 * match. Keyed by address (a literal's lives as long as the process),
 * at most CONST_RE_MAX; the worker threads share them (a compiled
 * pattern is only read by a match). */
#define CONST_RE_MAX 64

struct const_re {
	const char *pattern;
	uint32_t flags;
	pcre2_code *re;  /* NULL: does not compile */
};

static struct const_re const_re[CONST_RE_MAX];
static size_t n_const_re;
static pthread_mutex_t const_re_lock = PTHREAD_MUTEX_INITIALIZER;

/* The kept compile of pattern; NULL if it does not compile. *owned: a
 * compile the table had no room for (the caller frees it). */
static pcre2_code *const_re_get(const char *pattern, uint32_t flags, bool *owned)
{
	pcre2_code *re = NULL;
	size_t i;
	*owned = false;
	pthread_mutex_lock(&const_re_lock);
	for (i = 0; i < n_const_re; i++)
		if (const_re[i].pattern == pattern && const_re[i].flags == flags)
			break;
	if (i < n_const_re) {
		re = const_re[i].re;
	} else {
		re = compiled(pattern, flags);
		if (n_const_re < CONST_RE_MAX)
			const_re[n_const_re++] = (struct const_re){ pattern, flags, re };
		else
			*owned = true;
	}
	pthread_mutex_unlock(&const_re_lock);
	return re;
}

static bool const_search(const char *pattern, uint32_t flags, const char *s)
{
	bool owned;
	pcre2_code *re = const_re_get(pattern, flags, &owned);
	bool hit = re && re_matches(re, s);
	if (owned)
		pcre2_code_free(re);
	return hit;
}

bool rules_re_search(const char *pattern, uint32_t flags, const char *s)
{
	return const_search(pattern, flags, s);
}

/* Capitals only, in a subject of several words: shouting, unless the
 * subject is in a charset whose words look like capitals once read as
 * Latin letters (Cyrillic, Japanese, Chinese, Thai, Georgian encodings). */
static unsigned subject_all_caps(const struct rules_input *in, const char *const *a, size_t n)
{
	char *raw = NULL, *s = subject_text(in, &raw);
	if (!s)
		return 0;
	const char *p = s + strspn(s, " \t");
	size_t len = strlen(p);
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	char *subject = xstrndup(p, len);
	/* drop the reply and forward prefixes (in the languages whose
	 * clients add them): "Re: " is no part of the shouting */
	char *body = subject;
	for (;;) {
		static const char *const prefixes[] = { "re", "fwd", "fw", "aw", "antwort", "wg", "sv", "vb", "vs", "vl" };
		bool dropped = false;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]) && !dropped; i++) {
			size_t pl = strlen(prefixes[i]);
			if (strncasecmp(body, prefixes[i], pl) == 0 && body[pl] == ':') {
				body += pl + 1;
				body += strspn(body, " \t");
				dropped = true;
			}
		}
		if (!dropped)
			break;
	}
	bool several_words = strpbrk(body, " \t") != NULL && strlen(body) >= 10;
	size_t letters = 0, lowercase = 0;
	for (const char *c = body; *c; c++) {
		letters += isalpha((unsigned char)*c) && !((unsigned char)*c & 0x80);
		lowercase += *c >= 'a' && *c <= 'z';
	}
	bool caps_charset = const_search("=\\?[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251|windows-1251|georgianps"
				      "|pt154|tis)[-_a-z0-9]*\\?",
				      PCRE2_CASELESS, raw);
	free(subject);
	free(s);
	free(raw);
	return several_words && !caps_charset && letters && !lowercase;
}

/* A pattern matching s literally. */
static void quote(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s && n + 3 < cap; s++) {
		if (!isalnum((unsigned char)*s))
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
}

/* The recipient's name or address in the Subject: ratware personalising. */
static unsigned to_in_subject(const struct rules_input *in, const char *const *a, size_t n)
{
	char *to = first_addr(in, "To"), *raw = NULL, *subject = to ? subject_text(in, &raw) : NULL;
	bool hit = false;
	char q[600], pattern[2600];
	if (subject && strcmp(a[0], "address") == 0) {
		quote(to, q, sizeof(q));
		snprintf(pattern, sizeof(pattern), "\\b%s\\b", q);
		hit = re_search(pattern, PCRE2_CASELESS, subject);
	} else if (subject && strcmp(a[0], "user") == 0) {
		to[strcspn(to, "@")] = '\0';
		quote(to, q, sizeof(q));
		/* "Re: joe", "joe, ...", "joe" alone, ", joe!" */
		snprintf(pattern, sizeof(pattern),
			 "^(?:(?:re|fw):\\s*(?:\\w+\\s+)?%s$|(?-i:%s)\\s*[,:;!?-](?:$|\\s)|%s$|,\\s*%s[,:;!?-]$)", q, q, q,
			 q);
		hit = re_search(pattern, PCRE2_CASELESS, subject);
	}
	free(to);
	free(raw);
	free(subject);
	return hit;
}

/* The registered-looking part of a domain: the last two labels, three
 * under a two-letter country code with a short second level (co.uk,
 * com.au); NULL if it has no dot or its top label is not letters. */
static const char *base_domain(const char *d)
{
	const char *last = strrchr(d, '.');
	if (!last || last == d || !last[1])
		return NULL;
	for (const char *c = last + 1; *c; c++)
		if (!isalpha((unsigned char)*c))
			return NULL;
	const char *p = last, *second = NULL;
	while (p > d && p[-1] != '.')
		p--;
	second = p;
	if (strlen(last + 1) == 2 && (size_t)(last - second) <= 3 && second > d) {
		p = second - 1;
		while (p > d && p[-1] != '.')
			p--;
		return p;
	}
	return second;
}

static unsigned ratware_envelope_from(const struct rules_input *in, const char *const *a, size_t n)
{
	char *to = first_addr(in, "To"), *env = rules_envelope_from(in);
	bool hit = false;
	char *at = to ? strrchr(to, '@') : NULL;
	if (at && env && *env && !const_search("^SRS\\d[=+-]", PCRE2_CASELESS, env)) {
		*at = '\0';
		const char *dom = base_domain(at + 1);
		char qd[600], qu[600], pattern[1300];
		if (dom && *to) {
			quote(dom, qd, sizeof(qd));
			quote(to, qu, sizeof(qu));
			snprintf(pattern, sizeof(pattern), "\\b%s.%s@", qd, qu);
			hit = re_search(pattern, PCRE2_CASELESS, env);
		}
	}
	free(to);
	free(env);
	return hit;
}

/* Both empty counts as the same, as in SpamAssassin. */
static unsigned env_matches_from(const struct rules_input *in, const char *const *a, size_t n)
{
	char *from = first_addr(in, "From"), *env = rules_envelope_from(in);
	struct address_list l = { 0 };
	char *env_addr = env && address_list_parse(env, strlen(env), &l) ? xstrdup(l.addrs[0]) : NULL;
	address_list_free(&l);
	bool same = strcasecmp(env_addr ? env_addr : "", from ? from : "") == 0;
	free(env_addr);
	free(env);
	free(from);
	return same;
}

/* The last two labels of addr's domain ("" if it has none). */
static const char *last_two_labels(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	if (!at)
		return "";
	const char *d = at + 1, *end = d + strlen(d), *p = end;
	int dots = 0;
	while (p > d && !(p[-1] == '.' && ++dots == 2))
		p--;
	return p;
}

/* The sender's mail domain is not the author's (sent through someone
 * else's service, or forged); both must be known. */
static unsigned from_domains_differ(const struct rules_input *in, const char *const *a, size_t n)
{
	char *from = first_addr(in, "From"), *env = rules_envelope_from(in);
	const char *fd = last_two_labels(from), *ed = last_two_labels(env);
	bool differ = *fd && *ed && strcasecmp(fd, ed) != 0;
	free(from);
	free(env);
	return differ;
}

/* Outlook's Message-Id "<4 hex + 8 hex time $8 hex$8 hex@...>": the time
 * part counts units of about 430 seconds; a value that fits neither the
 * Date nor the earliest Received (within 250 units) was forged. */
#define OUTLOOK_SCALE 0.0023283064365387
#define OUTLOOK_OFFSET 27111902.8329849
#define OUTLOOK_FUDGE 250

static long long outlook_expected(const char *date_text)
{
	GDateTime *t = date_text ? g_mime_utils_header_decode_date(date_text) : NULL;
	gint64 unix_time = t ? g_date_time_to_unix(t) : 0;
	if (t)
		g_date_time_unref(t);
	return (long long)((double)unix_time * OUTLOOK_SCALE + OUTLOOK_OFFSET);
}

static unsigned outlook_message_id(const struct rules_input *in, const char *const *a, size_t n)
{
	char *id = first_value(in, "Message-Id");
	if (!id)
		id = first_value(in, "Resent-Message-Id");
	char hex[9] = "";
	bool outlook = id && strlen(id) > 32 && id[0] == '<' && strspn(id + 1, "0123456789abcdef") == 12 &&
		       id[13] == '$' && strspn(id + 14, "0123456789abcdef") == 8 && id[22] == '$' &&
		       strspn(id + 23, "0123456789abcdef") == 8 && id[31] == '@';
	if (outlook)
		memcpy(hex, id + 5, 8);
	free(id);
	if (!outlook)
		return 0;
	long long token = strtoll(hex, NULL, 16);
	char *date = first_value(in, "Date");
	long long diff = token - outlook_expected(date);
	free(date);
	if (llabs(diff) < OUTLOOK_FUDGE)
		return 0;
	/* the earliest relay: the last Received field, its date after ';' */
	char *rcvd[VALUES_MAX];
	size_t nr = rules_header_values(in, "Received", rcvd, VALUES_MAX);
	const char *semi = nr ? strrchr(rcvd[nr - 1], ';') : NULL;
	diff = token - outlook_expected(semi ? semi + 1 : NULL);
	rules_strings_free(rcvd, nr);
	return llabs(diff) >= OUTLOOK_FUDGE;
}

/* Fields where a '%' before capitals is normal (encoded names, message
 * ids, face images). */
static bool template_free_field(const char *line, size_t len)
{
	static const char *const names[] = {
		"X-VMS-To", "X-UIDL", "X-Face", "To", "Cc", "From", "Subject", "References", "In-Reply-To",
		"Message-Id", "X-Message-Id", "Resent-Message-Id", "X-Original-Message-Id",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (len > n && line[n] == ':' && strncasecmp(line, names[i], n) == 0)
			return true;
	}
	return false;
}

/* A placeholder: '%', a capital, then a capital, '_' or '-'. */
static bool has_placeholder(const char *s, size_t len)
{
	for (const char *p = memchr(s, '%', len); p; p = memchr(p + 1, '%', len - (size_t)(p + 1 - s)))
		if ((size_t)(p - s) + 2 < len && isupper((unsigned char)p[1]) &&
		    (isupper((unsigned char)p[2]) || p[2] == '_' || p[2] == '-'))
			return true;
	return false;
}

/* Each line of the header section (a continuation line on its own, as
 * SpamAssassin reads it), in one pass: no cost per line beyond a scan. */
static unsigned unresolved_template(const struct rules_input *in, const char *const *a, size_t n)
{
	const char *h = in->header;
	size_t len = in->header_len;
	for (size_t pos = 0; pos < len;) {
		const char *lf = memchr(h + pos, '\n', len - pos);
		size_t end = lf ? (size_t)(lf - h) + 1 : len;
		if (has_placeholder(h + pos, end - pos) && !template_free_field(h + pos, end - pos))
			return 1;
		pos = end;
	}
	return 0;
}

/* Right before at (blanks aside) a quoted, non-empty display name. */
static bool quoted_name_before(const char *from, const char *at)
{
	const char *p = at;
	while (p > from && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	if (p == from || p[-1] != '"')
		return false;
	const char *close = p - 1, *open = close;
	while (open > from && open[-1] != '"')
		open--;
	return open > from && close > open;
}

/* Message-Id "<" 28 capitals "." X ">" and From '"Name" <X>'. */
static unsigned ratware_name_id(const struct rules_input *in, const char *const *a, size_t n)
{
	char *id = first_value(in, "Message-Id"), *from = first_value(in, "From");
	bool hit = false;
	for (const char *lt = id && from ? strchr(id, '<') : NULL; lt && !hit; lt = strchr(lt + 1, '<')) {
		const char *dot = lt + 1 + 28, *gt = strchr(lt, '>');
		if (strspn(lt + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 28 || *dot != '.' || !gt || gt <= dot + 1 ||
		    gt - dot > 500)
			continue;
		char want[600];
		snprintf(want, sizeof(want), "<%.*s>", (int)(gt - dot - 1), dot + 1);
		const char *at = strstr(from, want);
		hit = at && quoted_name_before(from, at);
	}
	free(id);
	free(from);
	return hit;
}

/* Relays cannot be judged: no Received field, or the message came through
 * a gateway that removes them (ezmlm lists run by qmail, MSN groups). */
bool rules_received_removed(const struct rules_input *in)
{
	char *rcvd[VALUES_MAX];
	size_t nr = rules_header_values(in, "Received", rcvd, VALUES_MAX);
	bool gated = nr == 0;
	char *list = first_value(in, "Mailing-List"), *dlto = first_value(in, "Delivered-To");
	bool ezmlm = list && dlto && const_search("^contact \\S+@\\S+; run by ezmlm$", 0, list) &&
		     const_search("^mailing list \\S+@\\S+", 0, dlto);
	for (size_t i = 0; i < nr && !gated; i++)
		gated = (ezmlm && const_search("qmail \\d+ invoked (?:from network|by .{3,20})\\); \\d+ ... \\d+", 0, rcvd[i])) ||
			(strstr(rcvd[i], "groups.msn.com") &&
			 const_search("from groups\\.msn\\.com \\(\\S+\\.msn\\.com ", 0, rcvd[i]));
	rules_strings_free(rcvd, nr);
	free(list);
	free(dlto);
	return gated;
}

static unsigned received_removed(const struct rules_input *in, const char *const *a, size_t n)
{
	return rules_received_removed(in);
}

/* The recipients of To and Cc (Bcc too if they are fewer than 5), repeats
 * next to each other dropped, at most 256. */
#define RECIPIENTS_MAX 256
static size_t recipients(const struct rules_input *in, char **out)
{
	char *got[RECIPIENTS_MAX];
	size_t n = 0, ng = addrs_of(in, "To", got, RECIPIENTS_MAX, false);
	ng += addrs_of(in, "Cc", got + ng, RECIPIENTS_MAX - ng, false);
	if (ng < 5)
		ng += addrs_of(in, "Bcc", got + ng, RECIPIENTS_MAX - ng, false);
	for (size_t i = 0; i < ng; i++) {
		if (n && strcasecmp(out[n - 1], got[i]) == 0)
			free(got[i]);
		else
			out[n++] = got[i];
	}
	return n;
}

static int byte_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static unsigned sorted_recipients(const struct rules_input *in, const char *const *a, size_t n)
{
	char *r[RECIPIENTS_MAX], *sorted[RECIPIENTS_MAX];
	size_t nr = recipients(in, r);
	memcpy(sorted, r, nr * sizeof(*r));
	qsort(sorted, nr, sizeof(*sorted), byte_cmp);
	bool in_order = nr >= 7;
	for (size_t i = 0; i < nr && in_order; i++)
		in_order = strcmp(r[i], sorted[i]) == 0;
	rules_strings_free(r, nr);
	return in_order;
}

/* Share of address pairs alike: same first two bytes of the address, or
 * different hosts with the same first two bytes. */
static double similarity(char *const *r, size_t nr)
{
	size_t hits = 0, pairs = 0;
	for (size_t i = 0; i < nr; i++)
		for (size_t j = i + 1; j < nr; j++, pairs++) {
			const char *hi = strchr(r[i], '@'), *hj = strchr(r[j], '@');
			hits += strncmp(r[i], r[j], 2) == 0;
			hits += hi && hj && strncmp(hi + 1, hj + 1, 2) == 0 && strcmp(hi + 1, hj + 1) != 0;
		}
	return pairs ? (double)hits / (double)pairs : 0;
}

static unsigned similar_recipients(const struct rules_input *in, const char *const *a, size_t n)
{
	char *r[RECIPIENTS_MAX];
	size_t nr = recipients(in, r);
	double share = nr >= 5 ? similarity(r, nr) : 0, lo, hi;
	rules_strings_free(r, nr);
	bool low_ok = strcmp(a[0], "undef") == 0 || (sscanf(a[0], "%lf", &lo) == 1 && share >= lo);
	bool high_ok = strcmp(a[1], "undef") == 0 || (sscanf(a[1], "%lf", &hi) == 1 && share < hi);
	return low_ok && high_ok;
}

const struct rules_eval rules_eval_header[] = {
	{ "check_outlook_message_id", 0, 0, outlook_message_id, NULL },
	{ "subject_is_all_caps", 0, 0, subject_all_caps, NULL },
	{ "check_for_missing_to_header", 0, 0, missing_to, NULL },
	{ "check_for_to_in_subject", 1, 1, to_in_subject, NULL },
	{ "check_ratware_envelope_from", 0, 0, ratware_envelope_from, NULL },
	{ "check_for_matching_env_and_hdr_from", 0, 0, env_matches_from, NULL },
	{ "check_equal_from_domains", 0, 0, from_domains_differ, NULL },
	{ "check_unresolved_template", 0, 0, unresolved_template, NULL },
	{ "check_ratware_name_id", 0, 0, ratware_name_id, NULL },
	{ "gated_through_received_hdr_remover", 0, 0, received_removed, NULL },
	{ "sorted_recipients", 0, 0, sorted_recipients, NULL },
	{ "similar_recipients", 2, 2, similar_recipients, NULL },
	{ NULL, 0, 0, NULL, NULL },
};
