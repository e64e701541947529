/*
 * Unit tests for queue/requiretls.c (RFC 8689, TLS-8): which next hops may
 * carry a REQUIRETLS message, the permanent 5.7.30 replies, and the
 * "TLS-Required: No" header field.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "queue/requiretls.h"

#define LIT(s) s, sizeof(s) - 1

Test(requiretls_hop, mx_needs_dane_or_mta_sts_enforce)
{
	struct requiretls_hop h = { .kind = REQUIRETLS_HOP_MX, .tls_level = TLS_LEVEL_VERIFY };
	/* verify from the configuration alone: the MX names are unauthenticated */
	cr_assert_not_null(requiretls_hop_refusal(&h));
	h.sts_enforce = true;
	cr_assert_null(requiretls_hop_refusal(&h));
	h.sts_enforce = false;
	h.dane = true;
	cr_assert_null(requiretls_hop_refusal(&h));
	h.dane = false;
	h.mx_dnssec = true;   /* validated MX, no usable TLSA: PKIX against the MX name */
	cr_assert_null(requiretls_hop_refusal(&h));
}

Test(requiretls_hop, route_needs_verify)
{
	struct requiretls_hop h = { .kind = REQUIRETLS_HOP_ROUTE, .tls_level = TLS_LEVEL_ENCRYPT };
	const char *why = requiretls_hop_refusal(&h);
	cr_assert_not_null(why);
	cr_assert(strstr(why, "verify"));
	h.tls_level = TLS_LEVEL_VERIFY;
	cr_assert_null(requiretls_hop_refusal(&h));
}

Test(requiretls_reply, refusal_is_permanent_5_7_30)
{
	char buf[300];
	requiretls_refusal_reply("no policy", "mx:example.test", buf, sizeof(buf));
	cr_assert(strncmp(buf, "550 5.7.30 ", 11) == 0, "%s", buf);
	cr_assert(strstr(buf, "mx:example.test") && strstr(buf, "no policy"));
}

Test(requiretls_reply, tls_deferral_becomes_permanent)
{
	char buf[300];
	int code = 451;
	const char *r = requiretls_final_reply(&code, "451 4.7.5 mx.test:25: TLS certificate: expired", buf,
					       sizeof(buf));
	cr_assert_eq(code, 550);
	cr_assert_str_eq(r, "550 5.7.30 REQUIRETLS: mx.test:25: TLS certificate: expired");
}

Test(requiretls_reply, other_replies_stay)
{
	char buf[300];
	int code = 451;
	const char *in = "451 4.4.1 connection refused";
	cr_assert_eq(requiretls_final_reply(&code, in, buf, sizeof(buf)), in);
	cr_assert_eq(code, 451);
	code = 250;
	in = "250 2.0.0 Ok 4.7.5";
	cr_assert_eq(requiretls_final_reply(&code, in, buf, sizeof(buf)), in);
	cr_assert_eq(code, 250);
}

Test(requiretls_header, says_no)
{
	cr_assert(requiretls_header_says_no(LIT("Subject: x\r\nTLS-Required: No\r\n\r\nbody\r\n")));
	cr_assert(requiretls_header_says_no(LIT("tls-required:no\r\n\r\n")));
	cr_assert(requiretls_header_says_no(LIT("TLS-Required :  NO  \r\n\r\n")));
	/* folded */
	cr_assert(requiretls_header_says_no(LIT("TLS-Required:\r\n No\r\nX: y\r\n\r\n")));
	/* at the very end of a message without a body */
	cr_assert(requiretls_header_says_no(LIT("TLS-Required: No")));
}

Test(requiretls_header, does_not_say_no)
{
	cr_assert_not(requiretls_header_says_no(LIT("Subject: x\r\n\r\nTLS-Required: No\r\n")),
		      "in the body");
	cr_assert_not(requiretls_header_says_no(LIT("TLS-Required: Yes\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT("TLS-Required: Nope\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT("TLS-Required: N o\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT("TLS-Required: N\r\n o\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT("TLS-Required: No thanks\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT("TLS-Required-X: No\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT("X-TLS-Required: No\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT("Subject: TLS-Required: No\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT(" TLS-Required: No\r\n\r\n")));
	cr_assert_not(requiretls_header_says_no(LIT("TLS-Required:\r\n\r\n No\r\n")), "the value is empty");
	cr_assert_not(requiretls_header_says_no("", 0));
}

Test(requiretls_header, reads_only_len_bytes)
{
	/* "No" cut off by len: "N" only */
	static const char text[] = "TLS-Required: No\r\n\r\n";
	cr_assert_not(requiretls_header_says_no(text, 15));
}

Test(requiretls_header, from_a_spool_file)
{
	char path[] = "/tmp/mw-requiretls-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	static const char msg[] = "ENVELOPE-BYTESReceived: x\r\nTLS-Required: no\r\n\r\nhi\r\nTRAILER";
	cr_assert_eq(write(fd, msg, sizeof(msg) - 1), (ssize_t)sizeof(msg) - 1);
	struct envelope e = { .body_offset = 14, .body_end = (off_t)(sizeof(msg) - 1 - 7) };
	cr_assert(requiretls_tls_optional(fd, &e));
	e.body_end = 30;   /* cut before the field's value: not read past the end */
	cr_assert_not(requiretls_tls_optional(fd, &e));
	e.body_end = e.body_offset;
	cr_assert_not(requiretls_tls_optional(fd, &e));
	close(fd);
}
