/*
 * SMTP AUTH as a client: see sasl_client.h.
 */
#include "smtp/sasl_client.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* Is word (any case) one of the space-separated mechanisms? */
static bool mech_listed(const char *mechs, const char *word)
{
	size_t wlen = strlen(word);
	for (const char *p = mechs; *p;) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " ");
		if (n == wlen && strncasecmp(p, word, n) == 0)
			return true;
		p += n;
	}
	return false;
}

enum sasl_client_mech sasl_client_choose(const char *mechs)
{
	if (mech_listed(mechs, "PLAIN"))
		return SASL_CLIENT_PLAIN;
	if (mech_listed(mechs, "LOGIN"))
		return SASL_CLIENT_LOGIN;
	return SASL_CLIENT_NONE;
}

const char *sasl_client_mech_name(enum sasl_client_mech m)
{
	switch (m) {
	case SASL_CLIENT_PLAIN: return "PLAIN";
	case SASL_CLIENT_LOGIN: return "LOGIN";
	case SASL_CLIENT_NONE: break;
	}
	return "none";
}

/* "prefix" followed by the base64 of len bytes of in. */
static bool put_base64(const char *prefix, const void *in, size_t len, char *out, size_t cap)
{
	size_t plen = strlen(prefix);
	if (plen >= cap)
		return false;
	memcpy(out, prefix, plen);
	/* An empty field is "=" (RFC 4954 4); the encoder gives "" for it. */
	if (len == 0)
		return plen + 2 <= cap && snprintf(out + plen, cap - plen, "=") == 1;
	return sasl_base64_encode(in, len, out + plen, cap - plen) > 0;
}

/* RFC 4616 2: [authzid] NUL authcid NUL passwd; no authzid (we act as
 * the user itself). */
static bool plain_response(const struct sasl_creds *creds, char *out, size_t cap)
{
	unsigned char msg[2 * SASL_FIELD_MAX + 2];
	size_t ulen = strnlen(creds->user, SASL_FIELD_MAX + 1), plen = strnlen(creds->password, SASL_FIELD_MAX + 1);
	if (ulen > SASL_FIELD_MAX || plen > SASL_FIELD_MAX)
		return false;
	msg[0] = '\0';
	memcpy(msg + 1, creds->user, ulen);
	msg[1 + ulen] = '\0';
	memcpy(msg + 2 + ulen, creds->password, plen);
	bool ok = put_base64("AUTH PLAIN ", msg, 2 + ulen + plen, out, cap);
	OPENSSL_cleanse(msg, sizeof(msg));
	return ok;
}

bool sasl_client_step(enum sasl_client_mech m, unsigned step, const struct sasl_creds *creds, char *out,
		      size_t cap)
{
	if (cap == 0)
		return false;
	out[0] = '\0';
	if (m == SASL_CLIENT_PLAIN && step == 0)
		return plain_response(creds, out, cap);
	if (m != SASL_CLIENT_LOGIN)
		return false;
	switch (step) {
	case 0:
		return snprintf(out, cap, "AUTH LOGIN") < (int)cap;
	case 1:
		return put_base64("", creds->user, strnlen(creds->user, SASL_FIELD_MAX), out, cap);
	case 2:
		return put_base64("", creds->password, strnlen(creds->password, SASL_FIELD_MAX), out, cap);
	default:
		return false;
	}
}
