/*
 * libFuzzer target: the SMTP command line as smtpd reads it (issue 14).
 * The input is one line without its CRLF, as the session hands it to
 * smtp_command_dispatch(): smtp_line_is_http(), smtp_line_split(), and
 * for MAIL and RCPT the path after "FROM:" / "TO:" (address_parse_path)
 * and the parameters after it (params_parse_mail, params_parse_rcpt) -
 * the pure functions the dispatcher calls; the dispatcher itself needs a
 * session and a socket. Contract checks: an accepted line holds no
 * control byte but tab, its verb is letters only and its arguments lie
 * inside the line with no trailing blank; a refused keyword points
 * inside the text it was found in.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "smtp/address.h"
#include "smtp/params.h"
#include "smtp/parser.h"

static void check_split(const char *line, size_t len, const struct smtp_line *l)
{
	CHECK(l->verb == line && l->verb_len > 0 && l->verb_len <= len);
	for (size_t i = 0; i < l->verb_len; i++)
		CHECK((line[i] | 0x20) >= 'a' && (line[i] | 0x20) <= 'z');
	CHECK(l->args >= line && l->args + l->args_len <= line + len);
	if (l->args_len > 0)
		CHECK(l->args[l->args_len - 1] != ' ' && l->args[l->args_len - 1] != '\t');
	for (size_t i = 0; i < len; i++)
		CHECK((unsigned char)line[i] >= 0x20 || line[i] == '\t');
}

static void check_bad_keyword(const char *text, size_t len, enum params_error e, const char *bad)
{
	if (e != PARAMS_OK && bad)
		CHECK(bad >= text && bad <= text + len);
}

static void parse_envelope(const struct smtp_line *l, bool mail)
{
	size_t rest_len;
	const char *rest = smtp_args_after_keyword(l->args, l->args_len, mail ? "FROM:" : "TO:", &rest_len);
	if (!rest)
		return;
	CHECK(rest >= l->args && rest + rest_len <= l->args + l->args_len);
	struct address a;
	size_t used = 0;
	if (address_parse_path(rest, rest_len, true, mail, !mail, &a, &used) != ADDRESS_OK)
		return;
	CHECK(used > 0 && used <= rest_len && rest[used - 1] == '>');
	const char *params = rest + used, *bad = NULL;
	size_t plen = rest_len - used;
	if (mail) {
		struct mail_params mp;
		check_bad_keyword(params, plen, params_parse_mail(params, plen, &mp, &bad), bad);
	} else {
		struct rcpt_params rp;
		check_bad_keyword(params, plen, params_parse_rcpt(params, plen, &rp, &bad), bad);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	(void)smtp_line_is_http(line, size);
	struct smtp_line l;
	if (smtp_line_split(line, size, &l) != SMTP_LINE_OK)
		return 0;
	check_split(line, size, &l);
	if (smtp_verb_is(&l, "MAIL"))
		parse_envelope(&l, true);
	else if (smtp_verb_is(&l, "RCPT"))
		parse_envelope(&l, false);
	return 0;
}
