/*
 * libFuzzer target for the SASL decoders (auth/sasl.c): the base64 lines a
 * client sends after AUTH, before it is authenticated. Build and run: see
 * fuzz/README.md.
 *
 * Besides crashes and sanitizer reports, the target aborts when a result
 * breaks the contract: decoded base64 encodes back to the same text (the
 * decoder is strict, so there is exactly one spelling), a user name never
 * holds a control byte, space or NUL, no field is longer than
 * SASL_FIELD_MAX, and failed decodes leave empty fields.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"

#define CHECK(cond)                  \
	do {                         \
		if (!(cond))         \
			abort();     \
	} while (0)

static void check_user(const char *u)
{
	size_t n = strlen(u);
	CHECK(n > 0 && n <= SASL_FIELD_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)u[i] > ' ' && (unsigned char)u[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	unsigned char out[SASL_LINE_MAX];
	long n = sasl_base64_decode(text, size, out, sizeof(out));
	if (n > 0) {
		char back[SASL_LINE_MAX * 2];
		size_t m = sasl_base64_encode(out, (size_t)n, back, sizeof(back));
		CHECK(m == size && memcmp(back, text, size) == 0);
	}

	struct sasl_creds c;
	enum sasl_result r = sasl_plain_decode(text, size, &c);
	if (r == SASL_OK) {
		check_user(c.user);
		CHECK(strlen(c.password) > 0 && strlen(c.password) <= SASL_FIELD_MAX);
	} else {
		CHECK(c.user[0] == '\0' && c.password[0] == '\0');
	}

	char field[SASL_FIELD_MAX + 1];
	for (int user = 0; user < 2; user++) {
		r = sasl_login_decode(text, size, user, field);
		if (r == SASL_OK) {
			if (user)
				check_user(field);
			CHECK(strlen(field) > 0 && strlen(field) <= SASL_FIELD_MAX);
		} else {
			CHECK(field[0] == '\0');
		}
	}
	return 0;
}
