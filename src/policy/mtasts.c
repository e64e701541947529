/*
 * See mtasts.h. Pure parsing and matching per RFC 8461.
 */
#include "policy/mtasts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *mtasts_mode_name(enum mtasts_mode m)
{
	return m == MTASTS_ENFORCE ? "enforce" : m == MTASTS_TESTING ? "testing" : "none";
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* [p, end) without leading and trailing white space. */
static void trim(const char **p, const char **end)
{
	while (*p < *end && is_wsp(**p))
		(*p)++;
	while (*end > *p && is_wsp((*end)[-1]))
		(*end)--;
}

/* 3.1: sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static bool is_ext_name(const char *k, size_t n)
{
	if (n == 0 || n > 32 || !is_alnum(k[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(k[i]) && k[i] != '_' && k[i] != '-' && k[i] != '.')
			return false;
	return true;
}

/* 3.1: sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): visible, no ';' or '='. */
static bool is_ext_value(const char *v, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ';' || v[i] == '=')
			return false;
	return true;
}

static bool take_id(const char *v, size_t n, char *id)
{
	if (n == 0 || n > MTASTS_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(v[i]))
			return false;
	memcpy(id, v, n);
	id[n] = '\0';
	return true;
}

/* One "key=value" field of the TXT record after the version. */
static bool txt_field(const char *p, const char *end, char *id, bool *have_id)
{
	trim(&p, &end);
	if (p == end)   /* "v=STSv1; id=x;" ends in an empty field */
		return true;
	const char *eq = memchr(p, '=', (size_t)(end - p));
	if (!eq)
		return false;
	const char *kend = eq, *v = eq + 1;
	trim(&p, &kend);
	trim(&v, &end);
	size_t klen = (size_t)(kend - p), vlen = (size_t)(end - v);
	if (klen == 2 && memcmp(p, "id", 2) == 0) {
		if (*have_id)   /* the first id counts */
			return true;
		*have_id = true;
		return take_id(v, vlen, id);
	}
	return is_ext_name(p, klen) && is_ext_value(v, vlen);
}

bool mtasts_txt_parse(const char *txt, size_t len, char *id)
{
	static const char version[] = "v=STSv1";
	size_t vlen = sizeof(version) - 1;
	if (len < vlen || memcmp(txt, version, vlen) != 0)
		return false;
	const char *p = txt + vlen, *end = txt + len;
	while (p < end && is_wsp(*p))
		p++;
	if (p == end || *p != ';')
		return false;
	bool have_id = false;
	while (p < end) {
		p++;   /* the ';' */
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *fend = semi ? semi : end;
		if (!txt_field(p, fend, id, &have_id))
			return false;
		p = fend;
	}
	return have_id;
}

bool mtasts_txt_pick(char *const *texts, size_t n, char *id)
{
	size_t found = 0;
	const char *rec = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(texts[i]);
		if (len >= 8 && memcmp(texts[i], "v=STSv1", 7) == 0) {
			/* 3.1 "begin with v=STSv1;": white space may precede the ';' */
			const char *q = texts[i] + 7;
			while (is_wsp(*q))
				q++;
			if (*q != ';')
				continue;
			found++;
			rec = texts[i];
		}
	}
	return found == 1 && mtasts_txt_parse(rec, strlen(rec), id);
}

/* --- the policy file ---------------------------------------------------- */

struct seen {
	bool version, mode, max_age;
};

static bool value_is(const char *v, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(v, word, n) == 0;
}

static bool parse_max_age(const char *v, size_t n, unsigned *out)
{
	if (n == 0 || n > 10)   /* 3.2: 1*10DIGIT */
		return false;
	unsigned long long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	*out = x > MTASTS_MAX_AGE_MAX ? MTASTS_MAX_AGE_MAX : (unsigned)x;
	return true;
}

/* 3.2: an mx value is a domain name, or "*." and one; letters, digits,
 * '-' and '.', no empty label. Stored lower case. */
static bool take_mx(const char *v, size_t n, struct mtasts_policy *out)
{
	size_t start = n >= 2 && v[0] == '*' && v[1] == '.' ? 2 : 0;
	if (n - start == 0 || n >= sizeof(out->mx[0]) || v[start] == '.' || v[n - 1] == '.')
		return false;
	for (size_t i = start; i < n; i++) {
		char c = v[i];
		if (!is_alnum(c) && c != '-' && !(c == '.' && v[i - 1] != '.'))
			return false;
	}
	if (out->n_mx == MTASTS_MX_MAX)
		return true;   /* more than we keep: the rest cannot match */
	char *dst = out->mx[out->n_mx++];
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
	dst[n] = '\0';
	return true;
}

/* One "key: value" line; false with why set on an invalid value. */
static bool policy_field(const char *k, size_t klen, const char *v, size_t vlen, struct mtasts_policy *out,
			 struct seen *seen, char *why, size_t whylen)
{
	if (value_is(k, klen, "version") && !seen->version) {
		seen->version = true;
		if (value_is(v, vlen, "STSv1"))
			return true;
		snprintf(why, whylen, "version is not STSv1");
		return false;
	}
	if (value_is(k, klen, "mode") && !seen->mode) {
		seen->mode = true;
		if (value_is(v, vlen, "enforce"))
			out->mode = MTASTS_ENFORCE;
		else if (value_is(v, vlen, "testing"))
			out->mode = MTASTS_TESTING;
		else if (value_is(v, vlen, "none"))
			out->mode = MTASTS_NONE;
		else {
			snprintf(why, whylen, "mode is not enforce, testing or none");
			return false;
		}
		return true;
	}
	if (value_is(k, klen, "max_age") && !seen->max_age) {
		seen->max_age = true;
		if (parse_max_age(v, vlen, &out->max_age))
			return true;
		snprintf(why, whylen, "max_age is not a number of up to 10 digits");
		return false;
	}
	if (value_is(k, klen, "mx") && !take_mx(v, vlen, out)) {
		/* The value comes from a remote server: no raw control byte in
		 * the reason (found by fuzz_mtasts, issue 14). */
		char shown[101];
		size_t n = vlen > 100 ? 100 : vlen;
		for (size_t i = 0; i < n; i++)
			shown[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
		shown[n] = '\0';
		snprintf(why, whylen, "mx %s is not a host name or *.domain pattern", shown);
		return false;
	}
	return true;
}

static bool policy_line(const char *p, const char *end, struct mtasts_policy *out, struct seen *seen, char *why,
			size_t whylen)
{
	if (end > p && end[-1] == '\r')
		end--;
	if (p == end)
		return true;   /* an empty line, e.g. at the end */
	const char *colon = memchr(p, ':', (size_t)(end - p));
	if (!colon) {
		snprintf(why, whylen, "a line without ':'");
		return false;
	}
	const char *k = p, *kend = colon, *v = colon + 1;
	trim(&k, &kend);
	trim(&v, &end);
	return policy_field(k, (size_t)(kend - k), v, (size_t)(end - v), out, seen, why, whylen);
}

bool mtasts_policy_parse(const char *text, size_t len, struct mtasts_policy *out, char *why, size_t whylen)
{
	*out = (struct mtasts_policy){ .mode = MTASTS_NONE };
	struct seen seen = { 0 };
	if (len > MTASTS_POLICY_SIZE_MAX) {
		snprintf(why, whylen, "larger than %u bytes", MTASTS_POLICY_SIZE_MAX);
		return false;
	}
	if (memchr(text, '\0', len)) {
		snprintf(why, whylen, "a NUL byte in the policy");
		return false;
	}
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *lend = nl ? nl : end;
		if (!policy_line(p, lend, out, &seen, why, whylen))
			return false;
		p = nl ? nl + 1 : end;
	}
	const char *missing = !seen.version ? "version" : !seen.mode ? "mode" : !seen.max_age ? "max_age"
			      : out->n_mx == 0 && out->mode != MTASTS_NONE ? "mx" : NULL;
	if (missing) {
		snprintf(why, whylen, "no %s field", missing);
		return false;
	}
	return true;
}

/* --- MX matching (3.4) --------------------------------------------------- */

static bool pattern_match(const char *pat, const char *host, size_t hlen)
{
	if (pat[0] != '*') {
		return strlen(pat) == hlen && strncasecmp(pat, host, hlen) == 0;
	}
	/* "*.example.com": host is one label, then ".example.com" */
	const char *suffix = pat + 1;
	size_t slen = strlen(suffix);
	if (hlen <= slen || strncasecmp(host + hlen - slen, suffix, slen) != 0)
		return false;
	return memchr(host, '.', hlen - slen) == NULL;
}

bool mtasts_mx_match(const struct mtasts_policy *p, const char *host)
{
	size_t hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (hlen == 0)
		return false;
	for (size_t i = 0; i < p->n_mx; i++)
		if (pattern_match(p->mx[i], host, hlen))
			return true;
	return false;
}
