/* SMTP AUTH as a client to a smart host (smtp/sasl_client.c, issue 15,
 * RFC 4954, RFC 4616): the mechanism chosen from the EHLO reply and the
 * lines sent for it, checked by decoding them with the server's own
 * decoders (auth/sasl.c). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "smtp/sasl_client.h"

static const struct sasl_creds creds = { "relay-user@provider.test", "s3cret pass word" };

struct choice {
	char mechs[64];
	enum sasl_client_mech want;
};

ParameterizedTestParameters(sasl_client, chooses)
{
	static struct choice cases[] = {
		{ "PLAIN LOGIN", SASL_CLIENT_PLAIN },
		{ "LOGIN PLAIN", SASL_CLIENT_PLAIN },        /* PLAIN wins wherever it is listed */
		{ "CRAM-MD5 login", SASL_CLIENT_LOGIN },     /* any case */
		{ "LOGIN", SASL_CLIENT_LOGIN },
		{ "  XOAUTH2   plain ", SASL_CLIENT_PLAIN },
		{ "CRAM-MD5 DIGEST-MD5", SASL_CLIENT_NONE },
		{ "PLAINX LOGINS", SASL_CLIENT_NONE },       /* whole words only */
		{ "", SASL_CLIENT_NONE },
	};
	return cr_make_param_array(struct choice, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct choice *c, sasl_client, chooses)
{
	cr_assert_eq(sasl_client_choose(c->mechs), c->want, "\"%s\"", c->mechs);
}

Test(sasl_client, plain_sends_the_initial_response_in_the_auth_command)
{
	char line[SASL_LINE_MAX];
	cr_assert(sasl_client_step(SASL_CLIENT_PLAIN, 0, &creds, line, sizeof(line)));
	cr_assert(strncmp(line, "AUTH PLAIN ", 11) == 0, "%s", line);
	struct sasl_creds got;
	cr_assert_eq(sasl_plain_decode(line + 11, strlen(line + 11), &got), SASL_OK);
	cr_assert_str_eq(got.user, creds.user);
	cr_assert_str_eq(got.password, creds.password);
	/* PLAIN has one step: a 334 after it is not part of the exchange */
	cr_assert_not(sasl_client_step(SASL_CLIENT_PLAIN, 1, &creds, line, sizeof(line)));
}

Test(sasl_client, login_sends_user_then_password_in_base64)
{
	char line[SASL_LINE_MAX], field[SASL_FIELD_MAX + 1];
	cr_assert(sasl_client_step(SASL_CLIENT_LOGIN, 0, &creds, line, sizeof(line)));
	cr_assert_str_eq(line, "AUTH LOGIN");
	cr_assert(sasl_client_step(SASL_CLIENT_LOGIN, 1, &creds, line, sizeof(line)));
	cr_assert_eq(sasl_login_decode(line, strlen(line), true, field), SASL_OK);
	cr_assert_str_eq(field, creds.user);
	cr_assert(sasl_client_step(SASL_CLIENT_LOGIN, 2, &creds, line, sizeof(line)));
	cr_assert_eq(sasl_login_decode(line, strlen(line), false, field), SASL_OK);
	cr_assert_str_eq(field, creds.password);
	cr_assert_not(sasl_client_step(SASL_CLIENT_LOGIN, 3, &creds, line, sizeof(line)));
}

Test(sasl_client, nothing_without_a_mechanism_or_room)
{
	char line[SASL_LINE_MAX];
	cr_assert_not(sasl_client_step(SASL_CLIENT_NONE, 0, &creds, line, sizeof(line)));
	cr_assert_not(sasl_client_step(SASL_CLIENT_PLAIN, 0, &creds, line, 20));
	cr_assert_not(sasl_client_step(SASL_CLIENT_LOGIN, 2, &creds, line, 8));
	cr_assert_str_eq(sasl_client_mech_name(SASL_CLIENT_LOGIN), "LOGIN");
}

Test(sasl_client, fields_of_the_longest_length_fit_a_line)
{
	struct sasl_creds big;
	memset(big.user, 'u', SASL_FIELD_MAX);
	big.user[SASL_FIELD_MAX] = '\0';
	memset(big.password, 'p', SASL_FIELD_MAX);
	big.password[SASL_FIELD_MAX] = '\0';
	char line[SASL_LINE_MAX];
	cr_assert(sasl_client_step(SASL_CLIENT_PLAIN, 0, &big, line, sizeof(line)));
	struct sasl_creds got;
	cr_assert_eq(sasl_plain_decode(line + 11, strlen(line + 11), &got), SASL_OK);
	cr_assert_str_eq(got.password, big.password);
}
