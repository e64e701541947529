/*
 * Unit tests for smtp/address.c (RFC 5321 4.1.2 paths, RFC 6531 UTF-8).
 *
 * Every parse goes through parse_n(), which runs the parser twice on a
 * copy of exactly len bytes with no terminating NUL: once at the very end
 * of a page followed by a PROT_NONE page (an over-read faults in every
 * build), once in an exact-size heap block (ASan also sees under-reads).
 * Both runs must agree.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smtp/address.h"

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

static enum address_error parse_n(const char *s, size_t len, bool utf8, bool allow_null,
				  bool allow_postmaster, struct address *a, size_t *used)
{
	struct address heap_a;
	size_t heap_used;
	enum address_error e, heap_e;
	char *copy = malloc(len ? len : 1);

	cr_assert_not_null(copy);
	memcpy(copy, s, len);
	heap_e = address_parse_path(len ? copy : copy + 1, len, utf8, allow_null, allow_postmaster,
				    &heap_a, &heap_used);
	free(copy);

	e = address_parse_path(guard_page_end(s, len), len, utf8, allow_null, allow_postmaster, a,
			       used);
	cr_assert_eq(e, heap_e, "guard-page and heap runs disagree");
	cr_assert_eq(*used, heap_used);
	cr_assert_eq(memcmp(a, &heap_a, sizeof(*a)), 0);
	return e;
}

/* String literals may hold NULs: take their size, not their strlen. */
#define LIT(s) s, sizeof(s) - 1

static void expect_mailbox(const char *in, size_t len, bool utf8, const char *local,
			   const char *domain, bool literal)
{
	struct address a;
	size_t used = 0;
	enum address_error e = parse_n(in, len, utf8, false, false, &a, &used);

	cr_assert_eq(e, ADDRESS_OK, "%.*s: %s", (int)len, in, address_strerror(e));
	cr_assert_eq(a.kind, ADDRESS_MAILBOX);
	cr_assert_str_eq(a.local, local);
	cr_assert_str_eq(a.domain, domain);
	cr_assert_eq(a.domain_is_literal, literal);
	cr_assert_eq(used, len, "consumed %zu of %zu", used, len);
}

/* Refusals are checked with the most permissive flags, so that the flags
 * are never the reason. */
static void expect_error(const char *in, size_t len, bool utf8, enum address_error want)
{
	struct address a;
	size_t used = 99;
	enum address_error e = parse_n(in, len, utf8, true, true, &a, &used);

	cr_assert_eq(e, want, "%.*s: got %d (%s), want %d (%s)", (int)len, in, e,
		     address_strerror(e), want, address_strerror(want));
	cr_assert_eq(used, 0, "consumed must be 0 on error");
	cr_assert_eq(a.local[0], '\0', "out must be cleared on error");
	cr_assert_eq(a.domain[0], '\0', "out must be cleared on error");
}

#define ACCEPT(name, in, local, domain)                                                   \
	Test(address_accept, name)                                                        \
	{                                                                                 \
		expect_mailbox(LIT(in), false, local, domain, false);                     \
	}
#define ACCEPT_LITERAL(name, in, local, domain)                                           \
	Test(address_accept, name)                                                        \
	{                                                                                 \
		expect_mailbox(LIT(in), false, local, domain, true);                      \
	}
#define ACCEPT_UTF8(name, in, local, domain)                                              \
	Test(address_utf8, name)                                                          \
	{                                                                                 \
		expect_mailbox(LIT(in), true, local, domain, false);                      \
	}
#define REJECT(name, in, err)                                                             \
	Test(address_reject, name)                                                        \
	{                                                                                 \
		expect_error(LIT(in), false, err);                                        \
		expect_error(LIT(in), true, err);                                         \
	}
#define REJECT_UTF8(name, in, err)                                                        \
	Test(address_utf8, name)                                                          \
	{                                                                                 \
		expect_error(LIT(in), true, err);                                         \
	}

/* --- valid mailboxes ---------------------------------------------------- */

ACCEPT(plain, "<user@example.org>", "user", "example.org")
ACCEPT(single_label_domain, "<a@b>", "a", "b")
ACCEPT(dotted_local, "<first.last@example.org>", "first.last", "example.org")
ACCEPT(all_atext_specials, "<!#$%&'*+-/=?^_`{|}~@example.org>", "!#$%&'*+-/=?^_`{|}~",
       "example.org")
ACCEPT(case_is_preserved, "<User.Name@Example.ORG>", "User.Name", "Example.ORG")
ACCEPT(domain_with_hyphens_and_digits, "<a@x-1.ex--ample-2.org>", "a", "x-1.ex--ample-2.org")
ACCEPT(label_starting_with_digit, "<a@1x.example>", "a", "1x.example")
ACCEPT(quoted_with_space, "<\"john doe\"@example.org>", "\"john doe\"", "example.org")
ACCEPT(quoted_pair_dquote, "<\"a\\\"b\"@example.org>", "\"a\\\"b\"", "example.org")
ACCEPT(quoted_pair_backslash, "<\"a\\\\b\"@example.org>", "\"a\\\\b\"", "example.org")
ACCEPT(quoted_pair_space, "<\"\\ \"@example.org>", "\"\\ \"", "example.org")
ACCEPT(quoted_at_sign_stays_local, "<\"a@evil.example\"@example.org>", "\"a@evil.example\"",
       "example.org")
ACCEPT(quoted_dots_anywhere, "<\".a..b.\"@example.org>", "\".a..b.\"", "example.org")
ACCEPT(quoted_empty, "<\"\"@example.org>", "\"\"", "example.org")
ACCEPT(postmaster_with_domain_is_a_mailbox, "<postmaster@example.org>", "postmaster",
       "example.org")
ACCEPT_LITERAL(ipv4_literal, "<a@[192.0.2.1]>", "a", "[192.0.2.1]")
ACCEPT_LITERAL(ipv4_literal_edges, "<a@[0.0.0.0]>", "a", "[0.0.0.0]")
ACCEPT_LITERAL(ipv4_literal_max, "<a@[255.255.255.255]>", "a", "[255.255.255.255]")
ACCEPT_LITERAL(ipv6_literal, "<a@[IPv6:2001:db8::1]>", "a", "[IPv6:2001:db8::1]")
ACCEPT_LITERAL(ipv6_literal_prefix_any_case, "<a@[ipv6:::1]>", "a", "[ipv6:::1]")
ACCEPT_LITERAL(ipv6_literal_full, "<a@[IPv6:2001:db8:0:0:0:0:0:1]>", "a",
	       "[IPv6:2001:db8:0:0:0:0:0:1]")
ACCEPT_LITERAL(ipv6_literal_v4_tail, "<a@[IPv6:::ffff:192.0.2.1]>", "a",
	       "[IPv6:::ffff:192.0.2.1]")
ACCEPT_LITERAL(general_literal, "<a@[x-tag:some:content!~]>", "a", "[x-tag:some:content!~]")
/* Without "IPv6:" this is a general literal with the Ldh-str tag "2001"
 * (RFC 5321 4.1.3), not an IPv6 address: consumers must not read it as one. */
ACCEPT_LITERAL(general_literal_numeric_tag_is_not_ipv6, "<a@[2001:db8::1]>", "a", "[2001:db8::1]")
ACCEPT(source_route_is_ignored, "<@a.example,@b.example:user@c.example>", "user", "c.example")
ACCEPT(source_route_single_hop, "<@a.example:user@c.example>", "user", "c.example")

/* --- what is consumed ------------------------------------------------------ */

static size_t consumed_of(const char *in, size_t len)
{
	struct address a;
	size_t used = 0;

	cr_assert_eq(parse_n(in, len, false, true, true, &a, &used), ADDRESS_OK, "%.*s", (int)len, in);
	return used;
}

Test(address_consumed, stops_after_closing_bracket)
{
	cr_assert_eq(consumed_of(LIT("<a@b> SIZE=10 BODY=8BITMIME")), 5);
}

Test(address_consumed, leaves_a_second_bracket_to_the_caller)
{
	cr_assert_eq(consumed_of(LIT("<a@b>>")), 5);
}

Test(address_consumed, null_path_with_parameters)
{
	cr_assert_eq(consumed_of(LIT("<> SIZE=1")), 2);
}

Test(address_consumed, postmaster_with_parameters)
{
	cr_assert_eq(consumed_of(LIT("<Postmaster> NOTIFY=NEVER")), 12);
}

Test(address_consumed, source_route_counts)
{
	cr_assert_eq(consumed_of(LIT("<@r.example:a@b> X")), 16);
}

Test(address_consumed, len_is_honoured_even_if_more_bytes_follow)
{
	/* The ">" is in the buffer, but beyond len. */
	struct address a;
	size_t used;

	cr_assert_eq(address_parse_path("<a@b>", 4, false, true, true, &a, &used), ADDRESS_ERR_SYNTAX);
	cr_assert_eq(address_parse_path("<>", 1, false, true, true, &a, &used), ADDRESS_ERR_SYNTAX);
	cr_assert_eq(address_parse_path("<Postmaster>", 11, false, true, true, &a, &used),
		     ADDRESS_ERR_SYNTAX);
	cr_assert_eq(address_parse_path("<a@[1.2.3.4]>", 12, false, true, true, &a, &used),
		     ADDRESS_ERR_SYNTAX);
	cr_assert_eq(address_parse_path("<\"a\"@b>", 3, false, true, true, &a, &used),
		     ADDRESS_ERR_SYNTAX);
}

/* --- null path and Postmaster flags ---------------------------------------- */

Test(address_flags, null_path_allowed)
{
	struct address a;
	size_t used;

	cr_assert_eq(parse_n(LIT("<>"), false, true, false, &a, &used), ADDRESS_OK);
	cr_assert_eq(a.kind, ADDRESS_NULL);
	cr_assert_eq(used, 2);
}

Test(address_flags, null_path_refused)
{
	struct address a;
	size_t used;

	cr_assert_eq(parse_n(LIT("<>"), false, false, true, &a, &used), ADDRESS_ERR_SYNTAX);
	cr_assert_eq(used, 0);
}

Test(address_flags, postmaster_allowed_any_case)
{
	static const char *const forms[] = { "<Postmaster>", "<postmaster>", "<POSTMASTER>",
					     "<pOsTmAsTeR>" };
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct address a;
		size_t used;

		cr_assert_eq(parse_n(forms[i], strlen(forms[i]), false, false, true, &a, &used),
			     ADDRESS_OK, "%s", forms[i]);
		cr_assert_eq(a.kind, ADDRESS_POSTMASTER);
		cr_assert_eq(a.domain[0], '\0');
		cr_assert_eq(used, 12);
	}
}

Test(address_flags, postmaster_refused)
{
	struct address a;
	size_t used;

	cr_assert_eq(parse_n(LIT("<Postmaster>"), false, true, false, &a, &used), ADDRESS_ERR_SYNTAX);
}

Test(address_flags, postmaster_mailbox_is_not_special)
{
	struct address a;
	size_t used;

	cr_assert_eq(parse_n(LIT("<postmaster@example.org>"), false, false, false, &a, &used),
		     ADDRESS_OK);
	cr_assert_eq(a.kind, ADDRESS_MAILBOX);
	cr_assert_eq(parse_n(LIT("<postmaster@example.org>"), false, false, true, &a, &used),
		     ADDRESS_OK);
	cr_assert_eq(a.kind, ADDRESS_MAILBOX);
	cr_assert_str_eq(a.domain, "example.org");
}

REJECT(postmaster_quoted_is_not_special, "<\"Postmaster\">", ADDRESS_ERR_SYNTAX)
REJECT(postmaster_after_source_route, "<@a.example:Postmaster>", ADDRESS_ERR_SYNTAX)
REJECT(postmaster_prefix_only, "<Postmasterx>", ADDRESS_ERR_SYNTAX)
REJECT(postmaster_unterminated, "<Postmaster", ADDRESS_ERR_SYNTAX)

/* --- structure --------------------------------------------------------------- */

REJECT(empty_input, "", ADDRESS_ERR_SYNTAX)
REJECT(closing_bracket_only, ">", ADDRESS_ERR_SYNTAX)
REJECT(opening_bracket_only, "<", ADDRESS_ERR_SYNTAX)
REJECT(missing_closing_bracket, "<a@b", ADDRESS_ERR_SYNTAX)
REJECT(missing_brackets, "a@b", ADDRESS_ERR_SYNTAX)
REJECT(missing_opening_bracket, "a@b>", ADDRESS_ERR_SYNTAX)
REJECT(leading_space, " <a@b>", ADDRESS_ERR_SYNTAX)
REJECT(double_brackets, "<<a@b>>", ADDRESS_ERR_LOCAL)
REJECT(no_at_sign, "<ab>", ADDRESS_ERR_SYNTAX)
REJECT(two_at_signs, "<a@b@c>", ADDRESS_ERR_DOMAIN)
REJECT(empty_local_is_an_unterminated_route, "<@b>", ADDRESS_ERR_SYNTAX)
REJECT(empty_domain, "<a@>", ADDRESS_ERR_DOMAIN)
REJECT(unterminated_quote, "<\"abc@d>", ADDRESS_ERR_SYNTAX)
REJECT(unterminated_quoted_pair, "<\"a\\", ADDRESS_ERR_SYNTAX)
REJECT(truncated_after_at, "<a@", ADDRESS_ERR_SYNTAX)
REJECT(truncated_after_dot, "<a.", ADDRESS_ERR_SYNTAX)

/* --- hostile bytes ----------------------------------------------------------- */

REJECT(nul_in_local, "<a\0b@c>", ADDRESS_ERR_LOCAL)
REJECT(nul_in_domain, "<a@b\0c>", ADDRESS_ERR_DOMAIN)
REJECT(nul_in_quoted, "<\"a\0b\"@c>", ADDRESS_ERR_LOCAL)
REJECT(nul_first, "<\0@c>", ADDRESS_ERR_LOCAL)
REJECT(nul_in_literal, "<a@[1.2.3.4\0]>", ADDRESS_ERR_DOMAIN)
REJECT(crlf_in_local, "<a\r\n@b>", ADDRESS_ERR_LOCAL)
REJECT(crlf_in_domain, "<a@b\r\nRCPT TO:<c@d>>", ADDRESS_ERR_DOMAIN)
REJECT(crlf_in_quoted, "<\"a\r\nb\"@c>", ADDRESS_ERR_LOCAL)
REJECT(lf_in_quoted, "<\"a\nb\"@c>", ADDRESS_ERR_LOCAL)
REJECT(tab_in_quoted, "<\"a\tb\"@c>", ADDRESS_ERR_LOCAL)
REJECT(del_in_local, "<a\x7f@b>", ADDRESS_ERR_LOCAL)
REJECT(del_in_quoted, "<\"a\x7f\"@b>", ADDRESS_ERR_LOCAL)
REJECT(control_in_quoted_pair, "<\"a\\\x01\"@b>", ADDRESS_ERR_LOCAL)
REJECT(space_in_local, "<a b@c>", ADDRESS_ERR_LOCAL)
REJECT(space_after_open, "< a@b>", ADDRESS_ERR_LOCAL)
REJECT(space_before_at, "<a @b>", ADDRESS_ERR_LOCAL)
REJECT(space_after_at, "<a@ b>", ADDRESS_ERR_DOMAIN)
REJECT(space_in_domain, "<a@b .c>", ADDRESS_ERR_DOMAIN)
REJECT(space_before_close, "<a@b >", ADDRESS_ERR_DOMAIN)
REJECT(tab_in_local, "<a\tb@c>", ADDRESS_ERR_LOCAL)
REJECT(comment_is_not_allowed, "<(x)a@b>", ADDRESS_ERR_LOCAL)
REJECT(backslash_outside_quotes, "<a\\@b@c>", ADDRESS_ERR_LOCAL)
REJECT(brackets_in_local, "<a[b]@c>", ADDRESS_ERR_LOCAL)

/* --- dot-string ---------------------------------------------------------------- */

REJECT(double_dot, "<a..b@c>", ADDRESS_ERR_LOCAL)
REJECT(leading_dot, "<.a@c>", ADDRESS_ERR_LOCAL)
REJECT(trailing_dot_local, "<a.@c>", ADDRESS_ERR_LOCAL)
REJECT(dot_only, "<.@c>", ADDRESS_ERR_LOCAL)
REJECT(text_after_quoted, "<\"a\"b@c>", ADDRESS_ERR_LOCAL)
REJECT(obsolete_mixed_local, "<a.\"b\"@c>", ADDRESS_ERR_LOCAL)

/* --- domains ------------------------------------------------------------------- */

REJECT(trailing_dot_domain, "<a@b.>", ADDRESS_ERR_DOMAIN)
REJECT(leading_dot_domain, "<a@.b>", ADDRESS_ERR_DOMAIN)
REJECT(double_dot_domain, "<a@b..c>", ADDRESS_ERR_DOMAIN)
REJECT(label_leading_hyphen, "<a@-b.c>", ADDRESS_ERR_DOMAIN)
REJECT(label_trailing_hyphen, "<a@b-.c>", ADDRESS_ERR_DOMAIN)
REJECT(last_label_trailing_hyphen, "<a@b.c->", ADDRESS_ERR_DOMAIN)
REJECT(hyphen_only_label, "<a@->", ADDRESS_ERR_DOMAIN)
REJECT(underscore_in_domain, "<a@b_c.example>", ADDRESS_ERR_DOMAIN)
REJECT(quoted_domain, "<a@\"b\">", ADDRESS_ERR_DOMAIN)

/* --- address literals -------------------------------------------------------- */

REJECT(ipv4_octet_too_big, "<a@[1.2.3.999]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv4_256, "<a@[1.2.3.256]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv4_three_octets, "<a@[1.2.3]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv4_five_octets, "<a@[1.2.3.4.5]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv4_leading_zero, "<a@[01.2.3.4]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv4_trailing_dot, "<a@[1.2.3.4.]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv4_hex, "<a@[0x7f.0.0.1]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv4_single_number, "<a@[2130706433]>", ADDRESS_ERR_DOMAIN)
REJECT(empty_literal, "<a@[]>", ADDRESS_ERR_DOMAIN)
REJECT(unterminated_literal, "<a@[1.2.3.4>", ADDRESS_ERR_SYNTAX)
REJECT(text_after_literal, "<a@[1.2.3.4]x>", ADDRESS_ERR_DOMAIN)
REJECT(literal_then_label, "<a@[1.2.3.4].b>", ADDRESS_ERR_DOMAIN)
REJECT(space_in_literal, "<a@[1.2.3.4 ]>", ADDRESS_ERR_DOMAIN)
REJECT(nested_bracket_literal, "<a@[[1.2.3.4]]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv6_bad_hex, "<a@[IPv6:::g]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv6_too_many_groups, "<a@[IPv6:1:2:3:4:5:6:7:8:9]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv6_two_double_colons, "<a@[IPv6:1::2::3]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv6_empty, "<a@[IPv6:]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv6_zone_id, "<a@[IPv6:fe80::1%eth0]>", ADDRESS_ERR_DOMAIN)
REJECT(ipv6_given_v4, "<a@[IPv6:1.2.3.4]>", ADDRESS_ERR_DOMAIN)
REJECT(general_empty_tag, "<a@[:x]>", ADDRESS_ERR_DOMAIN)
REJECT(general_tag_trailing_hyphen, "<a@[tag-:x]>", ADDRESS_ERR_DOMAIN)
REJECT(general_empty_content, "<a@[tag:]>", ADDRESS_ERR_DOMAIN)
REJECT(general_bad_tag_char, "<a@[ta_g:x]>", ADDRESS_ERR_DOMAIN)
REJECT(general_open_bracket_in_content, "<a@[tag:a[b]>", ADDRESS_ERR_DOMAIN)
REJECT(general_backslash_in_content, "<a@[tag:a\\b]>", ADDRESS_ERR_DOMAIN)
REJECT(general_space_in_content, "<a@[tag:a b]>", ADDRESS_ERR_DOMAIN)

/* --- source routes ------------------------------------------------------------ */

REJECT(route_without_mailbox, "<@a.example:>", ADDRESS_ERR_LOCAL)
REJECT(route_without_colon, "<@a.example user@b>", ADDRESS_ERR_SYNTAX)
REJECT(route_hop_without_at, "<@a.example,b.example:u@c>", ADDRESS_ERR_SYNTAX)
REJECT(route_bad_domain, "<@-a.example:u@c>", ADDRESS_ERR_DOMAIN)
REJECT(route_trailing_dot, "<@a.example.:u@c>", ADDRESS_ERR_DOMAIN)
REJECT(route_literal_not_allowed, "<@[1.2.3.4]:u@c>", ADDRESS_ERR_DOMAIN)
REJECT(route_colon_chain, "<@a:@b:u@c>", ADDRESS_ERR_LOCAL)
REJECT(route_empty_hop, "<@a,,@b:u@c>", ADDRESS_ERR_SYNTAX)
REJECT(route_crlf, "<@a\r\n:u@c>", ADDRESS_ERR_SYNTAX)

/* --- length limits (RFC 5321 4.5.3.1) ---------------------------------------- */

static void repeat(char *dst, char c, size_t n)
{
	memset(dst, c, n);
	dst[n] = '\0';
}

/* A syntactically valid domain of exactly n octets, labels <= 63. */
static void make_domain(char *dst, size_t n)
{
	size_t pos = 0;

	while (pos < n) {
		size_t rest = n - pos, label = rest <= 63 ? rest : (rest - 2 < 63 ? rest - 2 : 63);

		memset(dst + pos, 'd', label);
		pos += label;
		if (pos < n)
			dst[pos++] = '.';
	}
	dst[n] = '\0';
	cr_assert_eq(strlen(dst), n);
	cr_assert_neq(dst[n - 1], '.');
}

static enum address_error parse_parts(const char *local, const char *domain, struct address *a)
{
	char in[1024];
	size_t used;
	int n = snprintf(in, sizeof(in), "<%s@%s>", local, domain);

	cr_assert(n > 0 && (size_t)n < sizeof(in));
	return parse_n(in, (size_t)n, false, false, false, a, &used);
}

Test(address_length, local_64_accepted_65_refused)
{
	char local[80];
	struct address a;

	repeat(local, 'l', 64);
	cr_assert_eq(parse_parts(local, "b", &a), ADDRESS_OK);
	cr_assert_eq(strlen(a.local), 64);
	repeat(local, 'l', 65);
	cr_assert_eq(parse_parts(local, "b", &a), ADDRESS_ERR_TOO_LONG);
}

Test(address_length, quoted_local_counts_its_quotes)
{
	char local[80];
	struct address a;

	repeat(local, 'q', 64);
	local[0] = local[63] = '"';
	cr_assert_eq(parse_parts(local, "b", &a), ADDRESS_OK);
	repeat(local, 'q', 65);
	local[0] = local[64] = '"';
	cr_assert_eq(parse_parts(local, "b", &a), ADDRESS_ERR_TOO_LONG);
}

Test(address_length, label_63_accepted_64_refused)
{
	char domain[80];
	struct address a;

	repeat(domain, 'x', 63);
	cr_assert_eq(parse_parts("a", domain, &a), ADDRESS_OK);
	repeat(domain, 'x', 64);
	cr_assert_eq(parse_parts("a", domain, &a), ADDRESS_ERR_DOMAIN);
}

Test(address_length, label_64_in_the_middle_refused)
{
	char domain[80];
	struct address a;

	repeat(domain, 'x', 70);
	domain[0] = 'a';
	domain[1] = '.';
	domain[66] = '.';
	cr_assert_eq(parse_parts("a", domain, &a), ADDRESS_ERR_DOMAIN); /* label of 64 */
	domain[65] = '.';
	domain[66] = 'x';
	cr_assert_eq(parse_parts("a", domain, &a), ADDRESS_OK); /* labels of 63 and 4 */
}

/* A stored mailbox holds at most 256 octets, so with a local part of one
 * octet the longest storable domain has 254: the 255-octet domain limit
 * itself is seen on the (unstored) source-route domains. */
Test(address_length, domain_255_accepted_256_refused)
{
	char domain[300], in[320];
	struct address a;
	size_t used;
	int n;

	make_domain(domain, 255);
	n = snprintf(in, sizeof(in), "<@%s:a@b>", domain);
	cr_assert_eq(parse_n(in, (size_t)n, false, false, false, &a, &used), ADDRESS_OK);
	cr_assert_str_eq(a.domain, "b");
	make_domain(domain, 256);
	n = snprintf(in, sizeof(in), "<@%s:a@b>", domain);
	cr_assert_eq(parse_n(in, (size_t)n, false, false, false, &a, &used), ADDRESS_ERR_TOO_LONG);
}

Test(address_length, mailbox_domain_254_accepted_255_refused)
{
	char domain[300];
	struct address a;

	make_domain(domain, 254);
	cr_assert_eq(parse_parts("a", domain, &a), ADDRESS_OK);
	cr_assert_eq(strlen(a.domain), 254);
	make_domain(domain, 255); /* "a@" + 255 = 257 > ADDRESS_PATH_MAX */
	cr_assert_eq(parse_parts("a", domain, &a), ADDRESS_ERR_TOO_LONG);
	make_domain(domain, 256); /* over the domain limit itself */
	cr_assert_eq(parse_parts("a", domain, &a), ADDRESS_ERR_TOO_LONG);
}

Test(address_length, mailbox_256_accepted_257_refused)
{
	char local[80], domain[300], buf[300];
	struct address a;

	repeat(local, 'l', 64);
	make_domain(domain, 191); /* 64 + 1 + 191 = 256 */
	cr_assert_eq(parse_parts(local, domain, &a), ADDRESS_OK);
	cr_assert_eq(address_format(&a, buf, ADDRESS_PATH_MAX + 1), ADDRESS_PATH_MAX);
	make_domain(domain, 192);
	cr_assert_eq(parse_parts(local, domain, &a), ADDRESS_ERR_TOO_LONG);
	make_domain(domain, 255); /* both parts at their own limit */
	cr_assert_eq(parse_parts(local, domain, &a), ADDRESS_ERR_TOO_LONG);
}

Test(address_length, general_literal_longer_than_a_domain_refused)
{
	char domain[400];
	struct address a;

	memcpy(domain, "[x:", 3);
	memset(domain + 3, 'c', 300);
	memcpy(domain + 303, "]", 2);
	cr_assert_eq(parse_parts("a", domain, &a), ADDRESS_ERR_TOO_LONG);
}

/* --- UTF-8 (RFC 6531) ---------------------------------------------------------- */

ACCEPT_UTF8(two_byte_local_and_domain, "<j\xc3\xb6hn@ex\xc3\xa4mple.org>", "j\xc3\xb6hn",
	    "ex\xc3\xa4mple.org")
ACCEPT_UTF8(three_byte, "<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8>",
	    "\xe7\x94\xa8\xe6\x88\xb7", "\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8")
ACCEPT_UTF8(four_byte, "<\xf0\x9f\x98\x80@x>", "\xf0\x9f\x98\x80", "x")
ACCEPT_UTF8(in_quoted_string, "<\"j\xc3\xb6 hn\"@x>", "\"j\xc3\xb6 hn\"", "x")
ACCEPT_UTF8(last_before_surrogates, "<\xed\x9f\xbf@x>", "\xed\x9f\xbf", "x")
ACCEPT_UTF8(first_after_surrogates, "<\xee\x80\x80@x>", "\xee\x80\x80", "x")
ACCEPT_UTF8(highest_code_point, "<\xf4\x8f\xbf\xbf@x>", "\xf4\x8f\xbf\xbf", "x")
ACCEPT_UTF8(first_after_c1_controls, "<\xc2\xa0@x>", "\xc2\xa0", "x")
ACCEPT_UTF8(ascii_with_flag, "<a@b>", "a", "b")

Test(address_utf8, has_utf8_is_set_only_for_8bit)
{
	struct address a;
	size_t used;

	cr_assert_eq(parse_n(LIT("<a@ex\xc3\xa4mple.org>"), true, false, false, &a, &used), ADDRESS_OK);
	cr_assert(a.has_utf8);
	cr_assert_eq(parse_n(LIT("<\xc3\xa4@b>"), true, false, false, &a, &used), ADDRESS_OK);
	cr_assert(a.has_utf8);
	cr_assert_eq(parse_n(LIT("<a@b>"), true, false, false, &a, &used), ADDRESS_OK);
	cr_assert_not(a.has_utf8);
}

Test(address_utf8, refused_without_smtputf8)
{
	static const struct {
		const char *in;
	} cases[] = {
		{ "<j\xc3\xb6hn@x>" },
		{ "<a@ex\xc3\xa4mple.org>" },
		{ "<\"j\xc3\xb6\"@x>" },
		{ "<a@[\xc3\xa9]>" },
		{ "<\"\\\xc3\xa9\"@x>" },
		{ "<@\xc3\xa9:a@b>" },
		{ "<\xff@x>" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].in, strlen(cases[i].in), false, ADDRESS_ERR_UTF8);
}

REJECT_UTF8(overlong_nul, "<\xc0\x80@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(overlong_two_byte, "<\xc1\xbf@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(overlong_three_byte, "<\xe0\x80\xaf@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(overlong_four_byte, "<\xf0\x8f\xbf\xbf@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(surrogate_high, "<\xed\xa0\x80@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(surrogate_low, "<\xed\xbf\xbf@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(above_u10ffff, "<\xf4\x90\x80\x80@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(lead_f5, "<\xf5\x80\x80\x80@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(lead_ff, "<\xff@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(lone_continuation, "<\x80@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(truncated_two_byte, "<\xc3@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(truncated_three_byte, "<\xe2\x82@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(truncated_four_byte, "<\xf0\x9f\x98@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(truncated_at_end_of_input, "<a\xe2\x82", ADDRESS_ERR_UTF8)
REJECT_UTF8(c1_control, "<\xc2\x85@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(surrogate_in_domain, "<a@\xed\xa0\x80.x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(truncated_in_quoted, "<\"\xc3\"@x>", ADDRESS_ERR_UTF8)
REJECT_UTF8(in_literal, "<a@[\xc3\xa9]>", ADDRESS_ERR_DOMAIN)
REJECT_UTF8(in_quoted_pair, "<\"\\\xc3\xa9\"@x>", ADDRESS_ERR_LOCAL)

/* --- never reads beyond len ------------------------------------------------- */

/* Every prefix of these inputs is parsed at the very end of a readable
 * page (parse_n); a success must end on a ">" inside the prefix. */
Test(address_bounds, every_prefix_stays_inside_len)
{
	static const char *const inputs[] = {
		"<user@example.org> SIZE=10",
		"<\"john \\\" doe\"@example.org>",
		"<@a.example,@b.example:user@c.example>",
		"<a@[192.0.2.1]>",
		"<a@[IPv6:2001:db8::ffff:192.0.2.1]>",
		"<a@[x-tag:content]>",
		"<Postmaster>",
		"<>",
		"<j\xc3\xb6hn@\xf0\x9f\x98\x80.example>",
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t n = strlen(inputs[i]);

		for (size_t k = 0; k <= n; k++) {
			for (int flags = 0; flags < 8; flags++) {
				struct address a;
				size_t used;
				enum address_error e = parse_n(inputs[i], k, flags & 1, flags & 2,
							       flags & 4, &a, &used);

				if (e == ADDRESS_OK) {
					cr_assert(used >= 2 && used <= k);
					cr_assert_eq(inputs[i][used - 1], '>');
				} else {
					cr_assert_eq(used, 0);
				}
			}
		}
	}
}

Test(address_bounds, prefixes_without_the_closing_bracket_fail)
{
	static const char in[] = "<\"q\"@[IPv6:::1]>";

	for (size_t k = 0; k < sizeof(in) - 1; k++) {
		struct address a;
		size_t used;

		cr_assert_neq(parse_n(in, k, true, true, true, &a, &used), ADDRESS_OK, "prefix %zu", k);
	}
}

/* --- address_format ----------------------------------------------------------- */

static void round_trip(const char *in, bool utf8)
{
	struct address a, b;
	size_t used;
	char buf[ADDRESS_PATH_MAX + 1], again[ADDRESS_PATH_MAX + 3];
	size_t n;

	cr_assert_eq(parse_n(in, strlen(in), utf8, true, true, &a, &used), ADDRESS_OK, "%s", in);
	n = address_format(&a, buf, sizeof(buf));
	cr_assert_eq(n, strlen(buf));
	snprintf(again, sizeof(again), "<%s>", buf);
	cr_assert_eq(parse_n(again, n + 2, utf8, true, true, &b, &used), ADDRESS_OK, "%s", again);
	cr_assert_eq(used, n + 2);
	cr_assert_eq(b.kind, a.kind);
	cr_assert_str_eq(b.local, a.local);
	cr_assert_str_eq(b.domain, a.domain);
	cr_assert_eq(b.domain_is_literal, a.domain_is_literal);
	cr_assert_eq(b.has_utf8, a.has_utf8);
}

Test(address_format, round_trip)
{
	round_trip("<user@example.org>", false);
	round_trip("<\"john \\\" doe\"@example.org>", false);
	round_trip("<a@[192.0.2.1]>", false);
	round_trip("<a@[IPv6:2001:db8::1]>", false);
	round_trip("<a@[tag:x]>", false);
	round_trip("<j\xc3\xb6hn@ex\xc3\xa4mple.org>", true);
	round_trip("<Postmaster>", false);
	round_trip("<>", false);
}

Test(address_format, source_route_is_dropped)
{
	struct address a;
	size_t used;
	char buf[64];

	cr_assert_eq(parse_n(LIT("<@a.example,@b.example:user@c.example>"), false, false, false, &a,
			     &used), ADDRESS_OK);
	cr_assert_eq(address_format(&a, buf, sizeof(buf)), strlen("user@c.example"));
	cr_assert_str_eq(buf, "user@c.example");
}

Test(address_format, exact_fit_and_too_small)
{
	struct address a;
	size_t used;
	char buf[32];

	cr_assert_eq(parse_n(LIT("<user@example.org>"), false, false, false, &a, &used), ADDRESS_OK);
	/* "user@example.org" is 16 octets, plus the NUL. */
	cr_assert_eq(address_format(&a, buf, 17), 16);
	cr_assert_str_eq(buf, "user@example.org");
	memset(buf, 'X', sizeof(buf));
	cr_assert_eq(address_format(&a, buf, 16), 0);
	cr_assert_eq(address_format(&a, buf, 1), 0);
	cr_assert_eq(address_format(&a, buf, 0), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 'X', "byte %zu written on failure", i);
}

Test(address_format, special_paths)
{
	struct address a;
	size_t used;
	char buf[16];

	cr_assert_eq(parse_n(LIT("<>"), false, true, false, &a, &used), ADDRESS_OK);
	memset(buf, 'X', sizeof(buf));
	cr_assert_eq(address_format(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");

	cr_assert_eq(parse_n(LIT("<POSTMASTER>"), false, false, true, &a, &used), ADDRESS_OK);
	cr_assert_eq(address_format(&a, buf, sizeof(buf)), 10);
	cr_assert_str_eq(buf, "Postmaster");
	cr_assert_eq(address_format(&a, buf, 10), 0);
}

Test(address_strerror, every_error_has_its_own_text)
{
	const enum address_error all[] = { ADDRESS_ERR_SYNTAX, ADDRESS_ERR_LOCAL, ADDRESS_ERR_DOMAIN,
					   ADDRESS_ERR_TOO_LONG, ADDRESS_ERR_UTF8 };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		cr_assert_not_null(address_strerror(all[i]));
		cr_assert_gt(strlen(address_strerror(all[i])), 0);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(address_strerror(all[i]), address_strerror(all[j]));
	}
}
