/*
 * Unit tests for smtp/params.c (ESMTP parameters after MAIL FROM / RCPT TO).
 * Inputs are copied to the very end of a page followed by a PROT_NONE
 * page, without a terminating NUL: an over-read faults in every build.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smtp/params.h"

static char *guard_page_end(const char *s, size_t len)
{
	static char *base;
	static size_t page;

	if (!base) {
		page = (size_t)sysconf(_SC_PAGESIZE);
		base = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		cr_assert_neq(base, MAP_FAILED);
		cr_assert_eq(mprotect(base + page, page, PROT_NONE), 0);
	}
	cr_assert_leq(len, page);
	memcpy(base + page - len, s, len);
	return base + page - len;
}

#define LIT(s) s, sizeof(s) - 1

/* Parse MAIL parameters; *bad_off is the offset of *bad_keyword (or -1). */
static enum params_error mail(const char *s, size_t len, struct mail_params *out, long *bad_off)
{
	const char *text = guard_page_end(s, len), *bad = NULL;
	enum params_error e = params_parse_mail(text, len, out, &bad);

	if (e == PARAMS_OK) {
		*bad_off = -1;
	} else {
		cr_assert_not_null(bad, "error without a position");
		cr_assert(bad >= text && bad < text + len, "position outside the text");
		*bad_off = bad - text;
	}
	return e;
}

static enum params_error rcpt(const char *s, size_t len, long *bad_off)
{
	const char *text = guard_page_end(s, len), *bad = NULL;
	enum params_error e = params_parse_rcpt(text, len, NULL, &bad);

	if (e == PARAMS_OK) {
		*bad_off = -1;
	} else {
		cr_assert_not_null(bad, "error without a position");
		cr_assert(bad >= text && bad < text + len, "position outside the text");
		*bad_off = bad - text;
	}
	return e;
}

static void expect_mail_error(const char *s, size_t len, enum params_error want, long want_off)
{
	struct mail_params p;
	long off;
	enum params_error e = mail(s, len, &p, &off);

	cr_assert_eq(e, want, "\"%.*s\": got %d, want %d", (int)len, s, e, want);
	cr_assert_eq(off, want_off, "\"%.*s\": error at %ld, want %ld", (int)len, s, off, want_off);
	/* On error nothing half-parsed is left behind. */
	cr_assert_not(p.has_size);
	cr_assert_eq(p.size, 0);
	cr_assert_eq(p.body, MAIL_BODY_7BIT);
	cr_assert_not(p.smtputf8);
}

#define MAIL_ERROR(name, in, err, off)                                                    \
	Test(params_mail, name)                                                           \
	{                                                                                 \
		expect_mail_error(LIT(in), err, off);                                     \
	}

/* --- accepted -------------------------------------------------------------- */

Test(params_mail, empty_gives_defaults)
{
	struct mail_params p;
	long off;

	memset(&p, 0xff, sizeof(p));
	cr_assert_eq(mail("", 0, &p, &off), PARAMS_OK);
	cr_assert_not(p.has_size);
	cr_assert_eq(p.size, 0);
	cr_assert_eq(p.body, MAIL_BODY_7BIT);
	cr_assert_not(p.smtputf8);
}

static uint64_t size_of(const char *s, size_t len)
{
	struct mail_params p;
	long off;

	cr_assert_eq(mail(s, len, &p, &off), PARAMS_OK, "\"%.*s\"", (int)len, s);
	cr_assert(p.has_size);
	return p.size;
}

Test(params_mail, size)
{
	cr_assert_eq(size_of(LIT(" SIZE=100")), 100);
	cr_assert_eq(size_of(LIT(" size=12345")), 12345);
	cr_assert_eq(size_of(LIT(" SIZE=0")), 0);
}

Test(params_mail, size_limits)
{
	cr_assert_eq(size_of(LIT(" SIZE=9223372036854775807")), UINT64_C(9223372036854775807));
	cr_assert_eq(size_of(LIT(" SIZE=9223372036854775808")), UINT64_C(1) << 63);
	cr_assert_eq(size_of(LIT(" SIZE=00000000000000000001")), 1); /* 20 digits */
}

Test(params_mail, body)
{
	struct mail_params p;
	long off;

	cr_assert_eq(mail(LIT(" BODY=8BITMIME"), &p, &off), PARAMS_OK);
	cr_assert_eq(p.body, MAIL_BODY_8BITMIME);
	cr_assert_eq(mail(LIT(" body=8bitMIME"), &p, &off), PARAMS_OK);
	cr_assert_eq(p.body, MAIL_BODY_8BITMIME);
	cr_assert_eq(mail(LIT(" BODY=7bit"), &p, &off), PARAMS_OK);
	cr_assert_eq(p.body, MAIL_BODY_7BIT);
	cr_assert_not(p.has_size);
}

Test(params_mail, smtputf8)
{
	struct mail_params p;
	long off;

	cr_assert_eq(mail(LIT(" SMTPUTF8"), &p, &off), PARAMS_OK);
	cr_assert(p.smtputf8);
	cr_assert_eq(mail(LIT(" smtputf8"), &p, &off), PARAMS_OK);
	cr_assert(p.smtputf8);
}

/* RFC 8689 3: REQUIRETLS, no value (the TLS check is smtpd's). */
Test(params_mail, requiretls)
{
	struct mail_params p;
	long off;

	cr_assert_eq(mail(LIT(" SIZE=9"), &p, &off), PARAMS_OK);
	cr_assert_not(p.requiretls);
	cr_assert_eq(mail(LIT(" REQUIRETLS"), &p, &off), PARAMS_OK);
	cr_assert(p.requiretls);
	cr_assert_eq(mail(LIT(" BODY=8BITMIME requiretls SMTPUTF8"), &p, &off), PARAMS_OK);
	cr_assert(p.requiretls && p.smtputf8);
}

Test(params_mail, all_together_any_order)
{
	struct mail_params p;
	long off;

	cr_assert_eq(mail(LIT(" SMTPUTF8 BODY=8BITMIME SIZE=42"), &p, &off), PARAMS_OK);
	cr_assert(p.smtputf8);
	cr_assert_eq(p.body, MAIL_BODY_8BITMIME);
	cr_assert(p.has_size);
	cr_assert_eq(p.size, 42);
}

Test(params_mail, len_is_honoured)
{
	/* Only " SIZE=1" is inside len; the "2" after it is not ours. */
	struct mail_params p;
	const char *bad = NULL;

	cr_assert_eq(params_parse_mail(" SIZE=12", 7, &p, &bad), PARAMS_OK);
	cr_assert_eq(p.size, 1);
	cr_assert_eq(params_parse_mail(" SIZE=12", 6, &p, &bad), PARAMS_ERR_SYNTAX);
}

Test(params_mail, bad_keyword_may_be_null)
{
	struct mail_params p;

	cr_assert_eq(params_parse_mail(LIT(" FOO"), &p, NULL), PARAMS_ERR_UNKNOWN);
	cr_assert_eq(params_parse_mail(LIT("  "), &p, NULL), PARAMS_ERR_SYNTAX);
	cr_assert_eq(params_parse_rcpt(LIT(" FOO"), NULL, NULL), PARAMS_ERR_UNKNOWN);
}

/* --- SIZE values ------------------------------------------------------------ */

MAIL_ERROR(size_above_2_63, " SIZE=9223372036854775809", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_2_64, " SIZE=18446744073709551616", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_20_nines, " SIZE=99999999999999999999", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_21_digits, " SIZE=000000000000000000001", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_negative, " SIZE=-1", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_plus_sign, " SIZE=+1", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_suffix, " SIZE=10k", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_hex, " SIZE=0x10", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_without_value, " SIZE", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(size_error_points_at_keyword, " BODY=7BIT SIZE=x", PARAMS_ERR_VALUE, 11)

/* --- BODY and SMTPUTF8 values ---------------------------------------------- */

MAIL_ERROR(body_binarymime, " BODY=BINARYMIME", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(body_unknown, " BODY=8BIT", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(body_without_value, " BODY", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(body_prefix_of_value, " BODY=8BITMIMEX", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(smtputf8_with_value, " SMTPUTF8=yes", PARAMS_ERR_VALUE, 1)

/* --- unknown and duplicate ----------------------------------------------- */

MAIL_ERROR(unknown_keyword, " FOO", PARAMS_ERR_UNKNOWN, 1)
MAIL_ERROR(unknown_after_known, " SIZE=1 AUTH=<>", PARAMS_ERR_UNKNOWN, 8)
MAIL_ERROR(dsn_ret_bad_value, " RET=BODY", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(dsn_envid_not_xtext, " ENVID=a+zz", PARAMS_ERR_VALUE, 1)
/* Issue 18 item 6: xtext that decodes to a control or 8-bit byte (RFC 3461 4.4). */
MAIL_ERROR(dsn_envid_decoding_to_crlf, " ENVID=a+0D+0AX-Evil:+20y", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(dsn_envid_decoding_to_nul, " ENVID=a+00b", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(dsn_envid_decoding_to_tab, " ENVID=a+09b", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(dsn_envid_decoding_to_del, " ENVID=a+7Fb", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(dsn_envid_decoding_to_8bit, " ENVID=a+FFb", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(dsn_envid_control_after_size, " SIZE=10 ENVID=+1B", PARAMS_ERR_VALUE, 9)
MAIL_ERROR(dsn_ret_twice, " RET=FULL RET=HDRS", PARAMS_ERR_DUPLICATE, 10)
MAIL_ERROR(unknown_prefix_of_known, " SIZ=1", PARAMS_ERR_UNKNOWN, 1)
MAIL_ERROR(unknown_with_utf8_value, " FOO=\xc3\xa9", PARAMS_ERR_UNKNOWN, 1)
MAIL_ERROR(unknown_resets_earlier_values, " SIZE=5 SMTPUTF8 X", PARAMS_ERR_UNKNOWN, 17)
MAIL_ERROR(duplicate_size, " SIZE=1 SIZE=2", PARAMS_ERR_DUPLICATE, 8)
MAIL_ERROR(duplicate_size_other_case, " SIZE=1 size=1", PARAMS_ERR_DUPLICATE, 8)
MAIL_ERROR(duplicate_body, " BODY=7BIT BODY=8BITMIME", PARAMS_ERR_DUPLICATE, 11)
MAIL_ERROR(duplicate_smtputf8, " SMTPUTF8 SMTPUTF8", PARAMS_ERR_DUPLICATE, 10)
MAIL_ERROR(duplicate_requiretls, " REQUIRETLS RequireTLS", PARAMS_ERR_DUPLICATE, 12)
MAIL_ERROR(requiretls_with_value, " REQUIRETLS=yes", PARAMS_ERR_VALUE, 1)
MAIL_ERROR(requiretls_prefix, " REQUIRETLSX", PARAMS_ERR_UNKNOWN, 1)

/* --- syntax -------------------------------------------------------------------- */

MAIL_ERROR(missing_leading_space, "SIZE=1", PARAMS_ERR_SYNTAX, 0)
MAIL_ERROR(double_leading_space, "  SIZE=1", PARAMS_ERR_SYNTAX, 1)
MAIL_ERROR(double_space_between, " SIZE=1  BODY=7BIT", PARAMS_ERR_SYNTAX, 8)
MAIL_ERROR(trailing_space, " SIZE=1 ", PARAMS_ERR_SYNTAX, 7)
MAIL_ERROR(space_only, " ", PARAMS_ERR_SYNTAX, 0)
MAIL_ERROR(tab_separator, "\tSIZE=1", PARAMS_ERR_SYNTAX, 0)
MAIL_ERROR(tab_between, " SIZE=1\tBODY=7BIT", PARAMS_ERR_SYNTAX, 7)
MAIL_ERROR(empty_value_at_end, " SIZE=", PARAMS_ERR_SYNTAX, 5)
MAIL_ERROR(empty_value_before_next, " SIZE= BODY=7BIT", PARAMS_ERR_SYNTAX, 5)
MAIL_ERROR(double_equals, " SIZE==1", PARAMS_ERR_SYNTAX, 6)
MAIL_ERROR(equals_in_value, " FOO=a=b", PARAMS_ERR_SYNTAX, 6)
MAIL_ERROR(cr_lf_after_value, " SIZE=1\r\n", PARAMS_ERR_SYNTAX, 7)
MAIL_ERROR(nul_in_value, " SIZE=1\0" "0", PARAMS_ERR_SYNTAX, 7)
MAIL_ERROR(nul_in_keyword, " SI\0ZE=1", PARAMS_ERR_SYNTAX, 3)
MAIL_ERROR(del_in_value, " SIZE=1\x7f", PARAMS_ERR_SYNTAX, 7)
MAIL_ERROR(keyword_starts_with_hyphen, " -SIZE=1", PARAMS_ERR_SYNTAX, 1)
MAIL_ERROR(underscore_in_keyword, " SI_ZE=1", PARAMS_ERR_SYNTAX, 3)
MAIL_ERROR(eight_bit_in_keyword, " SIZ\xc3\xa9=1", PARAMS_ERR_SYNTAX, 4)
MAIL_ERROR(overlong_utf8_value, " FOO=\xc0\x80", PARAMS_ERR_SYNTAX, 5)
MAIL_ERROR(surrogate_utf8_value, " FOO=a\xed\xa0\x80", PARAMS_ERR_SYNTAX, 6)
MAIL_ERROR(truncated_utf8_value, " FOO=\xe2\x82", PARAMS_ERR_SYNTAX, 5)
MAIL_ERROR(equals_only, " =1", PARAMS_ERR_SYNTAX, 1)
/* Syntax is checked over the whole text before any keyword is looked at. */
MAIL_ERROR(syntax_wins_over_unknown, " FOO BAR=", PARAMS_ERR_SYNTAX, 8)
MAIL_ERROR(syntax_wins_over_duplicate, " SIZE=1 SIZE=1 ", PARAMS_ERR_SYNTAX, 14)

/* --- RCPT ---------------------------------------------------------------------- */

Test(params_rcpt, empty_is_ok)
{
	long off;

	cr_assert_eq(rcpt("", 0, &off), PARAMS_OK);
}

Test(params_rcpt, dsn_notify_and_orcpt)
{
	long off;
	struct rcpt_params rp;
	const char *bad;

	cr_assert_eq(params_parse_rcpt(LIT(" NOTIFY=success,Delay ORCPT=rfc822;a+2Bb@b.example"), &rp, &bad), PARAMS_OK);
	cr_assert_str_eq(rp.notify, "SUCCESS,DELAY");
	cr_assert_str_eq(rp.orcpt, "rfc822;a+2Bb@b.example");
	cr_assert_eq(rcpt(LIT(" NOTIFY=NEVER"), &off), PARAMS_OK);
	cr_assert_eq(rcpt(LIT(" NOTIFY=NEVER,SUCCESS"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" NOTIFY=SUCCESS,SUCCESS"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" NOTIFY=SUCCESS,"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" NOTIFY=ALWAYS"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" ORCPT=a@b.example"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a+zz@b"), &off), PARAMS_ERR_VALUE);
	/* Issue 18 item 6: printable ASCII after decoding, space included. */
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a+20b@b"), &off), PARAMS_OK);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a+7Eb@b"), &off), PARAMS_OK);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a@b+0D+0ASubject:+20x"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a+0Ab@b"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a+00b@b"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a+1Fb@b"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a+7Fb@b"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" ORCPT=rfc822;a+C3+A9b@b"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(rcpt(LIT(" NOTIFY=NEVER ORCPT=rfc822;+0D"), &off), PARAMS_ERR_VALUE);
	cr_assert_eq(off, 14);
	cr_assert_eq(rcpt(LIT(" NOTIFY=NEVER NOTIFY=NEVER"), &off), PARAMS_ERR_DUPLICATE);
	cr_assert_eq(off, 14);
}

Test(params_rcpt, any_other_keyword_is_unknown)
{
	long off;

	/* MAIL keywords are not RCPT keywords. */
	cr_assert_eq(rcpt(LIT(" SIZE=1"), &off), PARAMS_ERR_UNKNOWN);
	cr_assert_eq(rcpt(LIT(" SMTPUTF8"), &off), PARAMS_ERR_UNKNOWN);
}

Test(params_rcpt, malformed_is_syntax)
{
	long off;

	cr_assert_eq(rcpt(LIT("X"), &off), PARAMS_ERR_SYNTAX);
	cr_assert_eq(off, 0);
	cr_assert_eq(rcpt(LIT("  X"), &off), PARAMS_ERR_SYNTAX);
	cr_assert_eq(off, 1);
	cr_assert_eq(rcpt(LIT(" X "), &off), PARAMS_ERR_SYNTAX);
	cr_assert_eq(off, 2);
	cr_assert_eq(rcpt(LIT(" X="), &off), PARAMS_ERR_SYNTAX);
	cr_assert_eq(off, 2);
	cr_assert_eq(rcpt(LIT(" NOTIFY=NEVER\r\n"), &off), PARAMS_ERR_SYNTAX);
	cr_assert_eq(off, 13);
	cr_assert_eq(rcpt(LIT(" "), &off), PARAMS_ERR_SYNTAX);
	cr_assert_eq(off, 0);
}

/* --- bounds ------------------------------------------------------------------- */

Test(params_bounds, every_prefix_stays_inside_len)
{
	static const char text[] = " SIZE=123 BODY=8BITMIME SMTPUTF8 FOO=\xc3\xa9\xf0\x9f\x98\x80";

	for (size_t k = 0; k < sizeof(text); k++) {
		struct mail_params p;
		long off;
		enum params_error e = mail(text, k, &p, &off);

		/* A prefix that cuts the known parameters short must not pass
		 * a different value off as the whole one. */
		if (e == PARAMS_OK && p.has_size)
			cr_assert(p.size == 1 || p.size == 12 || p.size == 123);
		(void)rcpt(text, k, &off);
	}
}
