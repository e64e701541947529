/*
 * ESMTP parameters after the MAIL FROM / RCPT TO path. Pure functions of
 * their input (no allocation, no global state); the text is untrusted and
 * NOT NUL-terminated, every read is checked against len.
 *
 * Two passes: the whole text must first be well-formed (a malformed
 * command is a 501 whatever its keywords), then the parameters are
 * interpreted left to right and the first unknown, duplicate or badly
 * valued one is reported.
 */
#include "smtp/params.h"
#include "util/utf8.h"

#include <string.h>

/* One " KEY[=VALUE]", as offsets into the text. */
struct param {
	size_t key, key_len;
	bool has_value;
	size_t value, value_len;
};

static bool is_alnum(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static int to_lower(int ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
}

static bool span_caseeq(const unsigned char *p, size_t n, const char *s)
{
	if (n != strlen(s))
		return false;
	for (size_t i = 0; i < n; i++)
		if (to_lower(p[i]) != to_lower((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * Read the parameter at *pos (which is < len). RFC 5321 4.1.2:
 *   Mail-parameters = esmtp-param *(SP esmtp-param), after the path's SP
 *   esmtp-keyword   = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 *   esmtp-value     = 1*(%d33-60 / %d62-126)   (+ UTF-8, RFC 6531 3.3)
 * Exactly one space before each parameter: no leading text without a
 * space, no double space, no trailing space. On a syntax error returns
 * false with *err the offset of the offending byte (always < len).
 */
static bool param_next(const unsigned char *p, size_t len, size_t *pos, struct param *out,
		       size_t *err)
{
	size_t i = *pos, n;

	if (p[i] != ' ') {
		*err = i;
		return false;
	}
	i++;
	if (i >= len || !is_alnum(p[i])) {
		*err = i < len ? i : i - 1; /* the bad byte, or the trailing space */
		return false;
	}
	out->key = i;
	while (i < len && (is_alnum(p[i]) || p[i] == '-'))
		i++;
	out->key_len = i - out->key;
	out->has_value = false;
	out->value = out->value_len = 0;

	if (i < len && p[i] == '=') {
		i++;
		out->value = i;
		while (i < len) {
			if (p[i] >= 33 && p[i] <= 126 && p[i] != '=')
				i++;
			else if (p[i] >= 0x80 && (n = utf8_seq_len(p + i, len - i)) > 0)
				i += n;
			else
				break;
		}
		out->value_len = i - out->value;
		if (out->value_len == 0) {
			/* The byte that cannot start a value, or the "=" itself
			 * when the parameter ends there. */
			*err = (i < len && p[i] != ' ') ? i : out->value - 1;
			return false;
		}
		out->has_value = true;
	}
	if (i < len && p[i] != ' ') {
		*err = i;
		return false;
	}
	*pos = i;
	return true;
}

static void set_bad(const char **bad, const char *where)
{
	if (bad)
		*bad = where;
}

/* The syntax pass over the whole text. */
static enum params_error params_check_syntax(const char *text, size_t len, const char **bad)
{
	const unsigned char *p = (const unsigned char *)text;
	struct param prm;
	size_t pos = 0, err = 0;

	while (pos < len) {
		if (!param_next(p, len, &pos, &prm, &err)) {
			set_bad(bad, text + err);
			return PARAMS_ERR_SYNTAX;
		}
	}
	return PARAMS_OK;
}

/* SIZE=n, RFC 1870: size-value = 1*20DIGIT; we also cap it at 2^63 so the
 * value fits an off_t. No sign, no spaces, no hex. */
static bool parse_size(const unsigned char *p, size_t n, uint64_t *out)
{
	const uint64_t max = UINT64_C(1) << 63;
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return false;
		d = (unsigned)(p[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool is_hex_upper(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static unsigned hex_value(unsigned char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'A' + 10);
}

bool params_xtext_valid(const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '+') {
			if (i + 2 >= n || !is_hex_upper(p[i + 1]) || !is_hex_upper(p[i + 2]))
				return false;
			/* RFC 3461 4.2, 4.4: the decoded text is printable US-ASCII.
			 * "+0D+0A" would put a line end into a DSN header (issue 18
			 * item 6); NUL, other controls and 8-bit bytes go too. */
			unsigned decoded = hex_value(p[i + 1]) * 16 + hex_value(p[i + 2]);
			if (decoded < 0x20 || decoded > 0x7e)
				return false;
			i += 2;
		} else if (p[i] < 33 || p[i] > 126 || p[i] == '=') {
			return false;
		}
	}
	return true;
}

/* NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY, each at most once
 * (RFC 3461 4.1). Normalised to upper case into out. */
static bool parse_notify(const unsigned char *p, size_t n, char out[32])
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	bool seen[3] = { false, false, false };
	size_t o = 0;
	if (span_caseeq(p, n, "NEVER")) {
		memcpy(out, "NEVER", 6);
		return true;
	}
	for (size_t start = 0; start <= n;) {
		size_t end = start;
		while (end < n && p[end] != ',')
			end++;
		size_t w;
		for (w = 0; w < 3; w++)
			if (span_caseeq(p + start, end - start, words[w]))
				break;
		if (w == 3 || seen[w])
			return false;
		seen[w] = true;
		size_t wl = strlen(words[w]);
		if (o)
			out[o++] = ',';
		memcpy(out + o, words[w], wl);
		o += wl;
		start = end + 1;
		if (end == n)
			break;
		if (start == n)
			return false;   /* trailing comma */
	}
	out[o] = '\0';
	return true;
}

/* ORCPT=addr-type;xtext (RFC 3461 4.2): addr-type an atom, then xtext. */
static bool orcpt_valid(const unsigned char *p, size_t n)
{
	const unsigned char *semi = memchr(p, ';', n);
	if (!semi || semi == p || n > PARAMS_ORCPT_MAX)
		return false;
	for (const unsigned char *q = p; q < semi; q++)
		if (!is_alnum(*q) && *q != '-')
			return false;
	return params_xtext_valid((const char *)semi + 1, n - (size_t)(semi - p) - 1) && semi + 1 < p + n;
}

/* A keyword that takes no value and may appear once (SMTPUTF8, REQUIRETLS). */
static enum params_error flag_param(bool *seen, const struct param *prm)
{
	if (*seen)
		return PARAMS_ERR_DUPLICATE;
	*seen = true;
	return prm->has_value ? PARAMS_ERR_VALUE : PARAMS_OK;
}

enum params_error params_parse_mail(const char *text, size_t len, struct mail_params *out,
				    const char **bad_keyword)
{
	bool seen_ret = false, seen_envid = false;
	const unsigned char *p = (const unsigned char *)text;
	bool seen_size = false, seen_body = false, seen_utf8 = false, seen_requiretls = false;
	enum params_error e = PARAMS_OK;
	struct param prm;
	size_t pos = 0, err;

	memset(out, 0, sizeof(*out));
	out->body = MAIL_BODY_7BIT;
	if ((e = params_check_syntax(text, len, bad_keyword)) != PARAMS_OK)
		return e;

	while (pos < len && e == PARAMS_OK) {
		const unsigned char *key, *val;

		if (!param_next(p, len, &pos, &prm, &err)) { /* not after the syntax pass */
			set_bad(bad_keyword, text + err);
			e = PARAMS_ERR_SYNTAX;
			break;
		}
		key = p + prm.key;
		val = p + prm.value;

		if (span_caseeq(key, prm.key_len, "SIZE")) {
			if (seen_size)
				e = PARAMS_ERR_DUPLICATE;
			else if (!prm.has_value || !parse_size(val, prm.value_len, &out->size))
				e = PARAMS_ERR_VALUE;
			seen_size = out->has_size = true;
		} else if (span_caseeq(key, prm.key_len, "BODY")) {
			if (seen_body)
				e = PARAMS_ERR_DUPLICATE;
			else if (prm.has_value && span_caseeq(val, prm.value_len, "7BIT"))
				out->body = MAIL_BODY_7BIT;
			else if (prm.has_value && span_caseeq(val, prm.value_len, "8BITMIME"))
				out->body = MAIL_BODY_8BITMIME;
			else
				e = PARAMS_ERR_VALUE;
			seen_body = true;
		} else if (span_caseeq(key, prm.key_len, "SMTPUTF8")) {
			e = flag_param(&seen_utf8, &prm);   /* RFC 6531 3.4 */
			out->smtputf8 = true;
		} else if (span_caseeq(key, prm.key_len, "REQUIRETLS")) {
			e = flag_param(&seen_requiretls, &prm);   /* RFC 8689 3 */
			out->requiretls = true;
		} else if (span_caseeq(key, prm.key_len, "RET")) {
			if (seen_ret)
				e = PARAMS_ERR_DUPLICATE;
			else if (prm.has_value && span_caseeq(val, prm.value_len, "FULL"))
				memcpy(out->ret, "FULL", 5);
			else if (prm.has_value && span_caseeq(val, prm.value_len, "HDRS"))
				memcpy(out->ret, "HDRS", 5);
			else
				e = PARAMS_ERR_VALUE;
			seen_ret = true;
		} else if (span_caseeq(key, prm.key_len, "ENVID")) {
			if (seen_envid)
				e = PARAMS_ERR_DUPLICATE;
			else if (!prm.has_value || prm.value_len > PARAMS_ENVID_MAX ||
				 !params_xtext_valid((const char *)val, prm.value_len))
				e = PARAMS_ERR_VALUE;
			else
				memcpy(out->envid, val, prm.value_len);
			seen_envid = true;
		} else {
			e = PARAMS_ERR_UNKNOWN;
		}
		if (e != PARAMS_OK)
			set_bad(bad_keyword, text + prm.key);
	}
	if (e != PARAMS_OK) {
		memset(out, 0, sizeof(*out));
		out->body = MAIL_BODY_7BIT;
	}
	return e;
}

enum params_error params_parse_rcpt(const char *text, size_t len, struct rcpt_params *out,
				    const char **bad_keyword)
{
	const unsigned char *p = (const unsigned char *)text;
	struct rcpt_params tmp;
	struct param prm;
	size_t pos = 0, err;
	enum params_error e;
	bool seen_notify = false, seen_orcpt = false;

	if (!out)
		out = &tmp;
	memset(out, 0, sizeof(*out));
	if ((e = params_check_syntax(text, len, bad_keyword)) != PARAMS_OK)
		return e;
	while (pos < len && e == PARAMS_OK) {
		if (!param_next(p, len, &pos, &prm, &err)) { /* not after the syntax pass */
			set_bad(bad_keyword, text + err);
			return PARAMS_ERR_SYNTAX;
		}
		const unsigned char *key = p + prm.key, *val = p + prm.value;
		if (span_caseeq(key, prm.key_len, "NOTIFY")) {
			if (seen_notify)
				e = PARAMS_ERR_DUPLICATE;
			else if (!prm.has_value || !parse_notify(val, prm.value_len, out->notify))
				e = PARAMS_ERR_VALUE;
			seen_notify = true;
		} else if (span_caseeq(key, prm.key_len, "ORCPT")) {
			if (seen_orcpt)
				e = PARAMS_ERR_DUPLICATE;
			else if (!prm.has_value || !orcpt_valid(val, prm.value_len))
				e = PARAMS_ERR_VALUE;
			else
				memcpy(out->orcpt, val, prm.value_len);
			seen_orcpt = true;
		} else {
			e = PARAMS_ERR_UNKNOWN;
		}
		if (e != PARAMS_OK)
			set_bad(bad_keyword, text + prm.key);
	}
	if (e != PARAMS_OK)
		memset(out, 0, sizeof(*out));
	return e;
}
