/*
 * SpamAssassin's FreeMail plugin in our own code (issue 11): is a sender,
 * a Reply-To or an address written in the body one of a free mail
 * provider's (freemail_domains)? Scams ask to be answered at a webmail
 * address, often another one than they send from.
 *
 * Settings, taken from the rule files by rules.c's parse_line:
 *   freemail_domains D...       the providers; '*' stands for any run of
 *                               characters and '?' for one, neither
 *                               crossing a dot (aol.* is aol.com, not
 *                               aol.co.uk)
 *   freemail_welcomelist A...   addresses or domains never counted as
 *                               free mail (freemail_whitelist: old name)
 *   freemail_max_body_emails N, freemail_max_body_freemails N,
 *   freemail_skip_when_over_max 0|1
 *                               a body with N or more addresses (5), or
 *                               N or more free ones (3), is a list or a
 *                               newsletter: its addresses are not used
 *   freemail_skip_bulk_envfrom 0|1
 *                               the Reply-To tests stay quiet for mail
 *                               from list and bounce senders (1)
 * Without any freemail_domains line every test here is false.
 *
 * Tests (header rules, eval:):
 *   check_freemail_from([re])       a sender address (From, Envelope-Sender,
 *                                   Resent-Sender, X-Envelope-From and the
 *                                   envelope sender; Resent-From alone when
 *                                   present) is free mail, and matches re
 *   check_freemail_header(H[, re])  an address in field H (EnvelopeFrom:
 *                                   the envelope sender) is free mail and
 *                                   matches re
 *   check_freemail_body([re])       a free-mail address written in the
 *                                   body (or a mailto: link) matches re
 *   check_freemail_replyto([what])  From and Reply-To are both free mail
 *                                   and From is not among the Reply-To
 *                                   addresses; or else (what 'replyto',
 *                                   the default) a free-mail Reply-To, or
 *                                   ('reply') a free-mail Reply-To or,
 *                                   lacking Reply-To, a free-mail From,
 *                                   differs from a free-mail address in
 *                                   the body
 * re is a Perl regex without delimiters matched against the lower-cased
 * address (Debian's rules use '\d@': a user name ending in a digit).
 *
 * Whatever the settings, some addresses are never free mail: role
 * mailboxes (abuse, info, postmaster, ...), bounce and request addresses
 * that providers generate, and forwarding addresses made of '='-separated
 * parts. The body's addresses are those that look like one with a domain
 * of at most five labels ending in letters; an address inside a web link,
 * followed by '>' or by a word and a colon ("x@y.com wrote:", a quoted
 * header) is a quotation, not an invitation to write, and is skipped.
 *
 * The set is read-only once loaded: the scanner's threads run these tests
 * at once, each with its own PCRE2 match data.
 */
#include "content/rules_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"

#define DOMAIN_MAX 255
#define ADDRS_MAX 32          /* addresses per message part we look at */
#define BODY_EMAILS_MAX 40    /* addresses taken from the body, at most */
#define MAILTO_MAX 20         /* mailto: links looked at */
#define MATCH_LIMIT 100000
#define DEPTH_LIMIT 10000

struct freemail {
	char **domains;           /* sorted, lower case, no wildcard */
	size_t n_domains;
	char **wild;              /* lower case, with '*' or '?' */
	size_t n_wild;
	char **welcome;           /* addresses and domains, lower case */
	size_t n_welcome;
	long max_body_emails, max_body_freemails;
	bool skip_over_max, skip_bulk_envfrom;
	pcre2_code *role_re;      /* local parts never counted as free mail */
	pcre2_code *bulk_re;      /* envelope senders of lists and bounces */
	pcre2_code *email_re;     /* an address written in text */
};

/* Role and machine-made local parts: postmaster and friends, addresses
 * providers generate for bounces and list requests, message-id-like hex,
 * forwarding addresses with '=' parts. */
static const char ROLE_RE[] =
	"^(?:abuse|support|sales|info|helpdesk|contact|kontakt|(?:post|host|domain)master|undisclosed.*"
	"|request-[0-9a-f]{16}|bounced?-|[0-9a-f]{8}(?:\\.[0-9a-f]{8}|-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
	"|[^@]+=[^@]+=[^@]+)@";
/* Senders of mailing lists and bounces (their Reply-To is the list's). */
static const char BULK_RE[] =
	"(?:^(?:post|host|domain)master|^double-bounce|^(?:sentto|owner|return|(?:gr)?bounced?)-[^@]+"
	"|-(?:request|bounces?|admin|owner)|\\b(?:do[._-t]?)?no[._-t]?repl(?:y|ies)|[^@]+=[^@]+)@";
/* RFC 5322 atext local part (dot-atoms), at most 64 bytes before '@';
 * a domain of 2 to 5 labels whose last is letters (or IDNA). */
#define ATEXT "a-z0-9!#$%&'*+/=?^_`{|}~-"
static const char EMAIL_RE[] = "(?<![" ATEXT "])(?=[." ATEXT "]{1,64}@)[" ATEXT "]+(?:\\.[" ATEXT "]+)*@"
			       "(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?\\.){1,4}(?:[a-z]{2,24}|xn--[a-z0-9-]{1,59})"
			       "(?![a-z0-9-])";

static pcre2_code *compile(const char *re)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &code, &off, NULL);
	if (c)
		pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	return c;
}

static struct freemail *freemail_of(struct rule_set *rs)
{
	if (!rs->freemail) {
		struct freemail *fm = xcalloc(1, sizeof(*fm));
		fm->max_body_emails = 5;
		fm->max_body_freemails = 3;
		fm->skip_over_max = true;
		fm->skip_bulk_envfrom = true;
		fm->role_re = compile(ROLE_RE);
		fm->bulk_re = compile(BULK_RE);
		fm->email_re = compile(EMAIL_RE);
		rs->freemail = fm;
	}
	return rs->freemail;
}

void rules_freemail_free(struct freemail *fm)
{
	if (!fm)
		return;
	rules_strings_free(fm->domains, fm->n_domains);
	rules_strings_free(fm->wild, fm->n_wild);
	rules_strings_free(fm->welcome, fm->n_welcome);
	free(fm->domains);
	free(fm->wild);
	free(fm->welcome);
	pcre2_code_free(fm->role_re);
	pcre2_code_free(fm->bulk_re);
	pcre2_code_free(fm->email_re);
	free(fm);
}

/* --- settings ------------------------------------------------------------------- */

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Kept sorted as it grows (about a thousand names in Debian's list), so
 * that a message's lookups are binary searches and the loaded set needs
 * no finishing step. */
static void add_sorted(char ***list, size_t *n, const char *s)
{
	size_t lo = 0, hi = *n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp((*list)[mid], s);
		if (c == 0)
			return;  /* listed twice */
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	memmove(*list + lo + 1, *list + lo, (*n - lo) * sizeof(**list));
	(*list)[lo] = xstrdup(s);
	(*n)++;
}

static bool in_sorted(char *const *list, size_t n, const char *s)
{
	return n && bsearch(&s, list, n, sizeof(*list), str_cmp) != NULL;
}

static bool domain_token_ok(const char *t)
{
	size_t len = strlen(t);
	return len > 0 && len <= DOMAIN_MAX && strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789.-*?") == len;
}

/* A welcomelist entry: an address or a domain (a word character on each
 * side of a '.' or '@'). */
static bool welcome_token_ok(const char *t)
{
	for (const char *p = t + 1; *p && p[1]; p++)
		if ((*p == '.' || *p == '@') && isalnum((unsigned char)p[-1]) && isalnum((unsigned char)p[1]))
			return strlen(t) <= DOMAIN_MAX + 64;
	return false;
}

static void add_domains(struct rule_set *rs, const char *file, int line, const char *kw, char *args)
{
	struct freemail *fm = freemail_of(rs);
	for (char *save = NULL, *t = strtok_r(args, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		lower(t);
		if (!domain_token_ok(t))
			rules_noted(rs, file, line, "%s: not a domain: %.100s", kw, t);
		else if (strpbrk(t, "*?"))
			add_sorted(&fm->wild, &fm->n_wild, t);
		else
			add_sorted(&fm->domains, &fm->n_domains, t);
	}
}

static void add_welcome(struct rule_set *rs, const char *file, int line, const char *kw, char *args)
{
	struct freemail *fm = freemail_of(rs);
	for (char *save = NULL, *t = strtok_r(args, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		lower(t);
		if (welcome_token_ok(t))
			add_sorted(&fm->welcome, &fm->n_welcome, t);
		else
			rules_noted(rs, file, line, "%s: not an address or domain: %.100s", kw, t);
	}
}

/* A number setting; noted (and left as it was) unless it is a whole
 * number from 0 to 1000. */
static void set_number(struct rule_set *rs, const char *file, int line, const char *kw, const char *args, long *out)
{
	char *end;
	long v = strtol(args, &end, 10);
	if (end == args || *(end + strspn(end, " \t\r\n")) || v < 0 || v > 1000)
		rules_noted(rs, file, line, "%s: not a number from 0 to 1000: %.100s", kw, args);
	else
		*out = v;
}

bool rules_freemail_setting(struct rule_set *rs, const char *file, int line, const char *kw, char *args)
{
	if (strcmp(kw, "freemail_domains") == 0) {
		add_domains(rs, file, line, kw, args);
	} else if (strcmp(kw, "freemail_welcomelist") == 0 || strcmp(kw, "freemail_whitelist") == 0) {
		add_welcome(rs, file, line, kw, args);
	} else if (strcmp(kw, "freemail_max_body_emails") == 0) {
		set_number(rs, file, line, kw, args, &freemail_of(rs)->max_body_emails);
	} else if (strcmp(kw, "freemail_max_body_freemails") == 0) {
		set_number(rs, file, line, kw, args, &freemail_of(rs)->max_body_freemails);
	} else if (strcmp(kw, "freemail_skip_when_over_max") == 0 || strcmp(kw, "freemail_skip_bulk_envfrom") == 0) {
		long v = 1;
		set_number(rs, file, line, kw, args, &v);
		struct freemail *fm = freemail_of(rs);
		if (strcmp(kw, "freemail_skip_when_over_max") == 0)
			fm->skip_over_max = v != 0;
		else
			fm->skip_bulk_envfrom = v != 0;
	} else {
		return false;
	}
	return true;
}

/* --- is it free mail? --------------------------------------------------------- */

/* One label against one pattern label: '*' any run, '?' one character. */
static bool label_match(const char *p, size_t plen, const char *s, size_t slen)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
	while (si < slen) {
		if (pi < plen && (p[pi] == '?' || p[pi] == s[si])) {
			pi++;
			si++;
		} else if (pi < plen && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

/* Neither wildcard crosses a dot: the labels pair up one to one. */
static bool wildcard_match(const char *pattern, const char *domain)
{
	for (;;) {
		size_t pl = strcspn(pattern, "."), dl = strcspn(domain, ".");
		if (!label_match(pattern, pl, domain, dl))
			return false;
		if (!pattern[pl] || !domain[dl])
			return !pattern[pl] && !domain[dl];
		pattern += pl + 1;
		domain += dl + 1;
	}
}

static bool re_matches(const pcre2_code *re, const char *s)
{
	if (!re)
		return false;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, MATCH_LIMIT);
	pcre2_set_depth_limit(mc, DEPTH_LIMIT);
	int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, mc);
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* addr: lower case. */
static bool is_freemail(const struct freemail *fm, const char *addr)
{
	const char *at = strrchr(addr, '@');
	if (!at || !at[1] || in_sorted(fm->welcome, fm->n_welcome, addr) ||
	    in_sorted(fm->welcome, fm->n_welcome, at + 1) || re_matches(fm->role_re, addr))
		return false;
	if (in_sorted(fm->domains, fm->n_domains, at + 1))
		return true;
	for (size_t i = 0; i < fm->n_wild; i++)
		if (wildcard_match(fm->wild[i], at + 1))
			return true;
	return false;
}

/* The tests' optional regex argument, compiled per use: it runs only on
 * addresses already found to be free mail, and Debian's set has two. A
 * regex that does not compile matches nothing. */
static bool arg_matches(const char *re_text, const char *addr)
{
	if (!re_text)
		return true;
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)re_text, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
	bool hit = re_matches(re, addr);
	pcre2_code_free(re);
	return hit;
}

/* Does any of addrs[0..n) count, free mail matching re_text? */
static bool any_freemail(const struct freemail *fm, char *const *addrs, size_t n, const char *re_text)
{
	for (size_t i = 0; i < n; i++)
		if (is_freemail(fm, addrs[i]) && arg_matches(re_text, addrs[i]))
			return true;
	return false;
}

/* The plugin's settings when it can answer: some domain is listed. */
static const struct freemail *usable(const struct rule_set *rs)
{
	const struct freemail *fm = rs ? rs->freemail : NULL;
	return fm && (fm->n_domains || fm->n_wild) ? fm : NULL;
}

/* --- the addresses of a message --------------------------------------------- */

static bool listed(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* Append addrs[0..n) to out (taking them), dropping repeats; frees the rest. */
static size_t merge(char **out, size_t have, size_t cap, char **addrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (have < cap && !listed(out, have, addrs[i]))
			out[have++] = addrs[i];
		else
			free(addrs[i]);
	}
	return have;
}

/* Runs of dots squeezed to one ("a..b@x" written by broken senders). */
static void squeeze_dots(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++)
		if (!(*r == '.' && w > s && w[-1] == '.'))
			*w++ = *r;
	*w = '\0';
}

/* Every address naming the sender: Resent-From's when the message was
 * resent, else those of From, Envelope-Sender, Resent-Sender,
 * X-Envelope-From and the envelope sender; lower case, no repeats. */
static size_t sender_addrs(const struct rules_input *in, char **out, size_t cap)
{
	size_t n = rules_header_addrs(in, "Resent-From", out, cap);
	if (n)
		return n;
	static const char *const fields[] = { "From", "Envelope-Sender", "Resent-Sender", "X-Envelope-From" };
	char *got[ADDRS_MAX];
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		n = merge(out, n, cap, got, rules_header_addrs(in, fields[i], got, ADDRS_MAX));
	char *env = rules_envelope_from(in);
	if (env) {
		lower(env);
		n = merge(out, n, cap, &env, 1);
	}
	for (size_t i = 0; i < n; i++)
		squeeze_dots(out[i]);
	return n;
}

/* The addresses of field name; "EnvelopeFrom" is the envelope sender
 * and a ":addr" suffix changes nothing (addresses are what we take). */
static size_t field_addrs(const struct rules_input *in, const char *name, char **out, size_t cap)
{
	char field[128];
	snprintf(field, sizeof(field), "%s", name);
	size_t len = strlen(field);
	if (len > 5 && strcmp(field + len - 5, ":addr") == 0)
		field[len - 5] = '\0';
	if (strcmp(field, "EnvelopeFrom") != 0)
		return rules_header_addrs(in, field, out, cap);
	char *env = rules_envelope_from(in);
	if (!env || !*env || !cap) {
		free(env);
		return 0;
	}
	lower(env);
	out[0] = env;
	return 1;
}

/* --- the body's addresses ----------------------------------------------------- */

/* Inside a web link that carries an address (a tracking or login URL):
 * the whitespace-separated word around at starts with http:// or https://
 * (an optional '<' before it). */
static bool in_web_link(const char *text, size_t at)
{
	size_t start = at;
	while (start > 0 && !isspace((unsigned char)text[start - 1]))
		start--;
	const char *w = text + start + (text[start] == '<');
	return strncasecmp(w, "http://", 7) == 0 || strncasecmp(w, "https://", 8) == 0;
}

/* Followed by '>' or by a short word and a colon ("x@y.com wrote:", a
 * quoted "From: ... <x@y.com>"): quoted, not offered. Contact labels
 * (fax, tel, phone, e-mail) after an address do not make it quoted. */
static bool quoted_after(const char *s)
{
	if (*s == '>')
		return true;
	size_t sp = 0;
	while (sp < 11 && isspace((unsigned char)s[sp]))
		sp++;
	if (sp == 0 || sp > 10)
		return false;
	const char *w = s + sp;
	size_t wl = 0;
	while (wl < 12 && isalpha((unsigned char)w[wl]))
		wl++;
	if (wl < 2 || wl > 11 || w[wl] != ':')
		return false;
	static const char *const labels[] = { "fax", "facsi", "tel", "phone", "mail", "email", "e-mail" };
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strncasecmp(w, labels[i], strlen(labels[i])) == 0)
			return false;
	return true;
}

struct body_addrs {
	char *a[BODY_EMAILS_MAX];      /* offered: what the tests use */
	size_t n;
	char *written[BODY_EMAILS_MAX]; /* every address written in the text */
	size_t n_written;
};

/* s[0..len), lower-cased, into list[0..cap) unless it is there or full. */
static void body_add(char **list, size_t *n, size_t cap, const char *s, size_t len)
{
	char *e = xstrndup(s, len);
	lower(e);
	if (*n < cap && !listed(list, *n, e))
		list[(*n)++] = e;
	else
		free(e);
}

static void scan_text(const struct freemail *fm, struct body_addrs *b, const char *text, size_t len,
		      pcre2_match_data *md, pcre2_match_context *mc)
{
	for (PCRE2_SIZE at = 0; at < len && b->n < BODY_EMAILS_MAX;) {
		if (pcre2_match(fm->email_re, (PCRE2_SPTR)text, len, at, 0, md, mc) < 0)
			return;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		body_add(b->written, &b->n_written, BODY_EMAILS_MAX, text + ov[0], ov[1] - ov[0]);
		if (!in_web_link(text, ov[0]) && !quoted_after(text + ov[1]))
			body_add(b->a, &b->n, BODY_EMAILS_MAX, text + ov[0], ov[1] - ov[0]);
		at = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
	}
}

/* The body's addresses: those of the rendered text, then those of
 * mailto: links whose address the text does not show (a link shown as
 * its address is judged where the text shows it, quotes skipped). */
static void body_addresses(const struct freemail *fm, const struct rules_input *in, struct body_addrs *b)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, MATCH_LIMIT);
	pcre2_set_depth_limit(mc, DEPTH_LIMIT);
	for (size_t i = 0; i < in->n_body; i++)
		scan_text(fm, b, in->body[i], in->body_len[i], md, mc);
	char *links[MAILTO_MAX];
	size_t n_links = 0;
	for (size_t i = 0; i < in->n_uri && n_links < MAILTO_MAX; i++)
		if (in->uri_len[i] > 7 && strncasecmp(in->uri[i], "mailto:", 7) == 0 &&
		    pcre2_match(fm->email_re, (PCRE2_SPTR)in->uri[i], in->uri_len[i], 7, PCRE2_ANCHORED, md, mc) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			body_add(links, &n_links, MAILTO_MAX, in->uri[i] + ov[0], ov[1] - ov[0]);
		}
	for (size_t i = 0; i < n_links; i++)
		if (!listed(b->written, b->n_written, links[i]))
			body_add(b->a, &b->n, BODY_EMAILS_MAX, links[i], strlen(links[i]));
	rules_strings_free(links, n_links);
	rules_strings_free(b->written, b->n_written);
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
}

/* The free-mail addresses the body offers, into free (taken from b); false
 * when the body has too many addresses, or too many free ones, to be one
 * person's invitation to write (a list digest, a newsletter). */
static bool body_freemails(const struct freemail *fm, const struct rules_input *in, struct body_addrs *free_out)
{
	struct body_addrs b = { .n = 0, .n_written = 0 };
	body_addresses(fm, in, &b);
	bool ok = true;
	long all = 0, fms = 0;
	free_out->n = 0;
	for (size_t i = 0; i < b.n; i++) {
		if (ok && ++all == fm->max_body_emails && fm->skip_over_max)
			ok = false;
		if (ok && is_freemail(fm, b.a[i])) {
			if (++fms == fm->max_body_freemails && fm->skip_over_max)
				ok = false;
			else {
				free_out->a[free_out->n++] = b.a[i];
				continue;
			}
		}
		free(b.a[i]);
	}
	if (!ok) {
		rules_strings_free(free_out->a, free_out->n);
		free_out->n = 0;
	}
	return ok;
}

/* --- the tests --------------------------------------------------------------- */

static unsigned freemail_from(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct freemail *fm = usable(in->rules);
	if (!fm)
		return 0;
	char *addrs[ADDRS_MAX];
	size_t na = sender_addrs(in, addrs, ADDRS_MAX);
	bool hit = any_freemail(fm, addrs, na, n ? a[0] : NULL);
	rules_strings_free(addrs, na);
	return hit;
}

static unsigned freemail_header(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct freemail *fm = usable(in->rules);
	if (!fm)
		return 0;
	char *addrs[ADDRS_MAX];
	size_t na = field_addrs(in, a[0], addrs, ADDRS_MAX);
	bool hit = any_freemail(fm, addrs, na, n > 1 ? a[1] : NULL);
	rules_strings_free(addrs, na);
	return hit;
}

static unsigned freemail_body(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct freemail *fm = usable(in->rules);
	struct body_addrs found = { .n = 0, .n_written = 0 };
	if (!fm || !body_freemails(fm, in, &found))
		return 0;
	bool hit = false;
	for (size_t i = 0; i < found.n && !hit; i++)
		hit = arg_matches(n ? a[0] : NULL, found.a[i]);
	rules_strings_free(found.a, found.n);
	return hit;
}

/* The envelope sender is a list's or a bounce address. */
static bool bulk_sender(const struct freemail *fm, const struct rules_input *in)
{
	char *env = rules_envelope_from(in);
	bool bulk = env && fm->skip_bulk_envfrom && re_matches(fm->bulk_re, env);
	free(env);
	return bulk;
}

/* The body offers a free-mail address other than one of the reply
 * addresses: the reader is asked to write somewhere else. */
static bool body_differs(const struct freemail *fm, const struct rules_input *in, char *const *reply, size_t nr)
{
	struct body_addrs found = { .n = 0, .n_written = 0 };
	if (!body_freemails(fm, in, &found))
		return false;
	bool hit = false;
	for (size_t i = 0; i < found.n && !hit; i++)
		for (size_t j = 0; j < nr && !hit; j++)
			hit = strcmp(found.a[i], reply[j]) != 0;
	rules_strings_free(found.a, found.n);
	return hit;
}

static bool replyto_hit(const struct freemail *fm, const struct rules_input *in, bool reply_mode, char *const *from,
			size_t nf, char *const *rto, size_t nr)
{
	bool from_fm = any_freemail(fm, from, nf, NULL), rto_fm = any_freemail(fm, rto, nr, NULL);
	bool from_in_rto = false;
	for (size_t i = 0; i < nf; i++)
		from_in_rto |= listed(rto, nr, from[i]);
	if (from_fm && rto_fm && !from_in_rto)
		return true;  /* two different free-mail identities */
	if (!reply_mode && !rto_fm)
		return false;
	if (reply_mode && (nr ? !rto_fm : !from_fm))
		return false;
	bool use_rto = !reply_mode || rto_fm;
	return body_differs(fm, in, use_rto ? rto : from, use_rto ? nr : nf);
}

static unsigned freemail_replyto(const struct rules_input *in, const char *const *a, size_t n)
{
	const struct freemail *fm = usable(in->rules);
	bool reply_mode = n && strcmp(a[0], "reply") == 0;
	if (!fm || (n && !reply_mode && strcmp(a[0], "replyto") != 0) || bulk_sender(fm, in))
		return 0;
	char *from[ADDRS_MAX], *rto[ADDRS_MAX];
	size_t nf = rules_header_addrs(in, "From", from, ADDRS_MAX);
	size_t nr = rules_header_addrs(in, "Reply-To", rto, ADDRS_MAX);
	bool hit = replyto_hit(fm, in, reply_mode, from, nf, rto, nr);
	rules_strings_free(from, nf);
	rules_strings_free(rto, nr);
	return hit;
}

const struct rules_eval rules_eval_freemail[] = {
	{ "check_freemail_from", 0, 1, freemail_from, NULL },
	{ "check_freemail_header", 1, 2, freemail_header, NULL },
	{ "check_freemail_body", 0, 1, freemail_body, NULL },
	{ "check_freemail_replyto", 0, 1, freemail_replyto, NULL },
	{ NULL, 0, 0, NULL, NULL },
};
