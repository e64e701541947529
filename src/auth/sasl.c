/*
 * SASL message decoding: see sasl.h.
 */
#include "auth/sasl.h"

#include <string.h>

#include "util/base64.h"

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long sasl_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	if (len == 1 && in[0] == '=')
		return 0;
	if (len % 4 != 0)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char ch = (unsigned char)in[i + k];
			if (ch == '=') {
				/* Padding only in the last group, only at its end. */
				if (i + 4 != len || k < 2)
					return -1;
				pad++;
				v[k] = 0;
				continue;
			}
			if (pad)
				return -1;
			v[k] = base64_value(ch);
			if (v[k] < 0)
				return -1;
		}
		unsigned n = ((unsigned)v[0] << 18) | ((unsigned)v[1] << 12) | ((unsigned)v[2] << 6) | (unsigned)v[3];
		/* Non-canonical encodings (bits set in the padding) are refused. */
		if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
			return -1;
		size_t produce = 3 - (size_t)pad;
		if (o + produce > cap)
			return -1;
		out[o++] = (unsigned char)(n >> 16);
		if (produce > 1)
			out[o++] = (unsigned char)(n >> 8);
		if (produce > 2)
			out[o++] = (unsigned char)n;
	}
	return (long)o;
}

size_t sasl_base64_encode(const void *in, size_t len, char *out, size_t cap)
{
	const unsigned char *p = in;
	size_t need = (len + 2) / 3 * 4 + 1, o = 0;
	if (cap < need)
		return 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned n = (unsigned)p[i] << 16;
		if (i + 1 < len)
			n |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			n |= p[i + 2];
		out[o++] = b64chars[(n >> 18) & 63];
		out[o++] = b64chars[(n >> 12) & 63];
		out[o++] = i + 1 < len ? b64chars[(n >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64chars[n & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* A user name goes into logs, the Received header and table lookups:
 * printable bytes only (UTF-8 allowed), no spaces, no controls. */
static bool user_name_ok(const unsigned char *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] == 0x7f)
			return false;
	return true;
}

static enum sasl_result decode(const char *b64, size_t len, unsigned char *buf, size_t cap, long *n)
{
	if (len == 1 && b64[0] == '*')
		return SASL_CANCELLED;
	if (len > SASL_LINE_MAX)
		return SASL_ERR_TOO_LONG;
	*n = sasl_base64_decode(b64, len, buf, cap);
	if (*n < 0)
		return (len / 4) * 3 > cap ? SASL_ERR_TOO_LONG : SASL_ERR_BASE64;
	return SASL_OK;
}

enum sasl_result sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out)
{
	unsigned char buf[SASL_LINE_MAX];
	long n;
	enum sasl_result r = decode(b64, len, buf, sizeof(buf), &n);
	memset(out, 0, sizeof(*out));
	if (r != SASL_OK)
		return r;
	const unsigned char *nul1 = memchr(buf, '\0', (size_t)n);
	if (!nul1)
		return SASL_ERR_FORMAT;
	size_t zlen = (size_t)(nul1 - buf);
	const unsigned char *user = nul1 + 1;
	const unsigned char *nul2 = memchr(user, '\0', (size_t)n - zlen - 1);
	if (!nul2)
		return SASL_ERR_FORMAT;
	size_t ulen = (size_t)(nul2 - user);
	const unsigned char *pass = nul2 + 1;
	size_t plen = (size_t)n - zlen - ulen - 2;
	if (memchr(pass, '\0', plen))
		return SASL_ERR_FORMAT;             /* a third NUL */
	if (ulen > SASL_FIELD_MAX || plen > SASL_FIELD_MAX)
		return SASL_ERR_TOO_LONG;
	if (!user_name_ok(user, ulen) || plen == 0)
		return SASL_ERR_FORMAT;
	if (zlen > 0 && (zlen != ulen || memcmp(buf, user, ulen) != 0))
		return SASL_ERR_FORMAT;             /* acting as someone else */
	memcpy(out->user, user, ulen);
	memcpy(out->password, pass, plen);
	memset(buf, 0, sizeof(buf));
	return SASL_OK;
}

enum sasl_result sasl_login_decode(const char *b64, size_t len, bool user, char *out)
{
	unsigned char buf[SASL_LINE_MAX];
	long n;
	enum sasl_result r = decode(b64, len, buf, sizeof(buf), &n);
	out[0] = '\0';
	if (r != SASL_OK)
		return r;
	if ((size_t)n > SASL_FIELD_MAX)
		return SASL_ERR_TOO_LONG;
	if (n == 0 || memchr(buf, '\0', (size_t)n) || (user && !user_name_ok(buf, (size_t)n)))
		return SASL_ERR_FORMAT;
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
	memset(buf, 0, sizeof(buf));
	return SASL_OK;
}

const char *sasl_strerror(enum sasl_result r)
{
	switch (r) {
	case SASL_OK:
		return "ok";
	case SASL_CANCELLED:
		return "cancelled";
	case SASL_ERR_BASE64:
		return "invalid base64";
	case SASL_ERR_FORMAT:
		return "malformed response";
	case SASL_ERR_TOO_LONG:
		return "response too long";
	}
	return "error";
}
