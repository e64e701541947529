/* SASL PLAIN (RFC 4616) and LOGIN decoding and strict base64, with
 * hostile inputs: every response comes from an unauthenticated client. */
#include <criterion/criterion.h>
#include <string.h>

#include "auth/sasl.h"

/* base64 of len bytes of raw (may hold NULs) into out. */
static const char *b64(const void *raw, size_t len, char *out, size_t cap)
{
	cr_assert(sasl_base64_encode(raw, len, out, cap) > 0 || len == 0);
	return out;
}

/* Encode raw, then decode it as the mechanism would (two steps: the
 * order of evaluation of arguments is unspecified). */
static enum sasl_result plain_raw(const void *raw, size_t len, struct sasl_creds *c)
{
	char t[1400];
	b64(raw, len, t, sizeof(t));
	return sasl_plain_decode(t, strlen(t), c);
}

static enum sasl_result login_raw(const void *raw, size_t len, bool user, char *out)
{
	char t[1400];
	b64(raw, len, t, sizeof(t));
	return sasl_login_decode(t, strlen(t), user, out);
}

#define PLAIN(lit, c) plain_raw(lit, sizeof(lit) - 1, c)
#define LOGIN(lit, user, out) login_raw(lit, sizeof(lit) - 1, user, out)

Test(sasl, base64_round_trip_and_rfc4648_vectors)
{
	unsigned char out[16];
	cr_assert_eq(sasl_base64_decode("Zm9vYmFy", 8, out, sizeof(out)), 6);
	cr_assert(memcmp(out, "foobar", 6) == 0);
	cr_assert_eq(sasl_base64_decode("Zm9vYg==", 8, out, sizeof(out)), 4);
	cr_assert_eq(sasl_base64_decode("Zm9vYmE=", 8, out, sizeof(out)), 5);
	cr_assert_eq(sasl_base64_decode("", 0, out, sizeof(out)), 0);
	cr_assert_eq(sasl_base64_decode("=", 1, out, sizeof(out)), 0);  /* RFC 4954: empty response */
	char text[16];
	cr_assert_eq(sasl_base64_encode("fo", 2, text, sizeof(text)), 4);
	cr_assert_str_eq(text, "Zm8=");
	cr_assert_eq(sasl_base64_encode("foobar", 6, text, 8), 0);  /* no room for the NUL */
}

Test(sasl, base64_is_strict)
{
	unsigned char out[64];
	const char *bad[] = {
		"Zm9vYmF", "Zm9v YmFy", "Zm9vYmFy\n", "Zm9=YmFy", "Z===", "====", "Zm9vYg=", "Zm9vYg=x",
		"Zm9vYh==",  /* non-canonical: padding bits set */
		"Zm9vYmF-", "Zm9vYmF_", "Zm9v\0mFy",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sasl_base64_decode(bad[i], i == 11 ? 8 : strlen(bad[i]), out, sizeof(out)), -1,
			     "accepted %s", bad[i]);
	cr_assert_eq(sasl_base64_decode("Zm9vYmFy", 8, out, 5), -1);  /* longer than cap */
}

Test(sasl, plain_with_and_without_authzid)
{
	struct sasl_creds c;
	cr_assert_eq(PLAIN("\0alice@example.test\0pw 1", &c), SASL_OK);
	cr_assert_str_eq(c.user, "alice@example.test");
	cr_assert_str_eq(c.password, "pw 1");
	cr_assert_eq(PLAIN("bob\0bob\0x:y", &c), SASL_OK);
	cr_assert_str_eq(c.user, "bob");
	cr_assert_str_eq(c.password, "x:y");
}

Test(sasl, plain_hostile_messages)
{
	struct sasl_creds c;
	/* acting as someone else (proxy authorization) */
	cr_assert_eq(PLAIN("mallory\0alice\0pw", &c), SASL_ERR_FORMAT);
	/* missing separators, empty fields, a third NUL */
	cr_assert_eq(PLAIN("alice", &c), SASL_ERR_FORMAT);
	cr_assert_eq(PLAIN("\0alice", &c), SASL_ERR_FORMAT);
	cr_assert_eq(PLAIN("\0\0", &c), SASL_ERR_FORMAT);
	cr_assert_eq(PLAIN("\0alice\0", &c), SASL_ERR_FORMAT);
	cr_assert_eq(PLAIN("\0\0pw", &c), SASL_ERR_FORMAT);
	cr_assert_eq(PLAIN("\0alice\0pw\0more", &c), SASL_ERR_FORMAT);
	/* control bytes and spaces in the user name (it is logged) */
	cr_assert_eq(PLAIN("\0ali\r\nce\0pw", &c), SASL_ERR_FORMAT);
	cr_assert_eq(PLAIN("\0al ice\0pw", &c), SASL_ERR_FORMAT);
	cr_assert_eq(PLAIN("\0\x1b[2Jx\0pw", &c), SASL_ERR_FORMAT);
	cr_assert_str_eq(c.user, "");
	/* not base64, cancelled */
	cr_assert_eq(sasl_plain_decode("AGFsaWNlAHB3!", 13, &c), SASL_ERR_BASE64);
	cr_assert_eq(sasl_plain_decode("*", 1, &c), SASL_CANCELLED);
	cr_assert_eq(sasl_plain_decode("=", 1, &c), SASL_ERR_FORMAT);
}

Test(sasl, plain_length_limits)
{
	struct sasl_creds c;
	char raw[600];
	memset(raw, 'a', sizeof(raw));
	raw[0] = '\0';
	raw[256 + 1] = '\0';  /* a 256-byte user name */
	cr_assert_eq(plain_raw(raw, 300, &c), SASL_ERR_TOO_LONG);
	raw[256 + 1] = 'a';
	raw[10] = '\0';       /* a 289-byte password */
	cr_assert_eq(plain_raw(raw, 300, &c), SASL_ERR_TOO_LONG);
	raw[10] = '\0';
	cr_assert_eq(plain_raw(raw, 10 + 1 + 255, &c), SASL_OK);
	cr_assert_eq(strlen(c.password), 255);
	char huge[SASL_LINE_MAX + 8];
	memset(huge, 'A', sizeof(huge));
	cr_assert_eq(sasl_plain_decode(huge, sizeof(huge), &c), SASL_ERR_TOO_LONG);
}

Test(sasl, login_fields)
{
	char out[SASL_FIELD_MAX + 1];
	cr_assert_eq(LOGIN("bob", true, out), SASL_OK);
	cr_assert_str_eq(out, "bob");
	cr_assert_eq(LOGIN("p w:\x7f\x01", false, out), SASL_OK);
	cr_assert_str_eq(out, "p w:\x7f\x01");   /* a password may hold anything but NUL */
	cr_assert_eq(LOGIN("b ob", true, out), SASL_ERR_FORMAT);
	cr_assert_eq(LOGIN("bo\0b", true, out), SASL_ERR_FORMAT);
	cr_assert_eq(LOGIN("pw\0", false, out), SASL_ERR_FORMAT);
	cr_assert_eq(sasl_login_decode("=", 1, false, out), SASL_ERR_FORMAT);    /* empty */
	cr_assert_eq(sasl_login_decode("*", 1, true, out), SASL_CANCELLED);
	cr_assert_eq(sasl_login_decode("Ym9i\r", 5, true, out), SASL_ERR_BASE64);
	char raw[300];
	memset(raw, 'x', sizeof(raw));
	cr_assert_eq(login_raw(raw, 256, false, out), SASL_ERR_TOO_LONG);
	cr_assert_eq(login_raw(raw, 255, false, out), SASL_OK);
	cr_assert_eq(out[255], '\0');
}
