/* The typed transaction messages (ipc/txn.h): one encoder and one decoder
 * each, round trips, and what a decoder refuses from a broken or hostile
 * peer (SEC-1: a compromised smtpd or scanner writes these). */
#include <criterion/criterion.h>
#include <string.h>

#include "ipc/txn.h"

static struct ipc_msg out, in;

static void transmit(void)
{
	cr_assert_not(out.bad);
	cr_assert(ipc_msg_decode(&in, out.data, out.len));
}

Test(ipc_txn, end_of_message_round_trip)
{
	struct ipc_eom e = { .size = 392, .outbound = true, .n_symbols = 2 }, d;
	strcpy(e.iprev, "pass");
	strcpy(e.ptr, "mail.example.org");
	strcpy(e.spf, "fail");
	strcpy(e.spf_domain, "example.org");
	strcpy(e.symbols[0].name, "RBL_FILE");
	e.symbols[0].points = 5;
	strcpy(e.symbols[1].name, "HELO_BAD_SYNTAX");
	e.symbols[1].points = -2;
	ipc_eom_encode(&out, 9, &e);
	transmit();
	cr_assert(ipc_eom_decode(&in, &d));
	cr_assert_eq(in.reqid, 9);
	cr_assert_eq(d.size, 392);
	cr_assert(d.outbound);
	cr_assert_str_eq(d.ptr, "mail.example.org");
	cr_assert_eq(d.n_symbols, 2);
	cr_assert_eq(d.symbols[1].points, -2);
}

Test(ipc_txn, end_of_message_with_a_header_breaking_fact_or_bad_symbol_is_refused)
{
	struct ipc_eom e = { .size = 1 }, d;
	strcpy(e.ptr, "evil (comment");
	ipc_eom_encode(&out, 1, &e);
	transmit();
	cr_assert_not(ipc_eom_decode(&in, &d), "a PTR that would break Authentication-Results");
	memset(&e, 0, sizeof(e));
	e.n_symbols = 1;
	strcpy(e.symbols[0].name, "lower_case");
	ipc_eom_encode(&out, 1, &e);
	transmit();
	cr_assert_not(ipc_eom_decode(&in, &d));
}

/* Points are hundredths within +-1000 points: a peer sending more is
 * broken (and could otherwise make the verdict's sum overflow). */
Test(ipc_txn, symbols_with_points_out_of_range_are_refused)
{
	struct ipc_eom e = { .size = 1, .n_symbols = 1 }, d;
	strcpy(e.symbols[0].name, "RBL_FILE");
	e.symbols[0].points = IPC_SYMBOL_POINTS_MAX;
	ipc_eom_encode(&out, 1, &e);
	transmit();
	cr_assert(ipc_eom_decode(&in, &d));
	cr_assert_eq(d.symbols[0].points, 100000, "1000 points");
	int32_t bad[] = { IPC_SYMBOL_POINTS_MAX + 1, -IPC_SYMBOL_POINTS_MAX - 1, INT32_MIN, INT32_MAX };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.symbols[0].points = bad[i];
		ipc_eom_encode(&out, 1, &e);
		transmit();
		cr_assert_not(ipc_eom_decode(&in, &d), "%d", bad[i]);
	}
}

Test(ipc_txn, end_of_message_with_too_many_symbols_or_bytes_left_over_is_refused)
{
	ipc_msg_init(&out, IPC_TXN_EOM, 1);
	ipc_put_u64(&out, 1);
	ipc_put_u32(&out, 0);
	for (int i = 0; i < 4; i++)
		ipc_put_str(&out, "");
	ipc_put_u32(&out, IPC_SYMBOLS_MAX + 1);
	transmit();
	struct ipc_eom d;
	cr_assert_not(ipc_eom_decode(&in, &d));
	struct ipc_eom e = { .size = 1 };
	ipc_eom_encode(&out, 1, &e);
	ipc_put_u32(&out, 0);  /* one field too many */
	transmit();
	cr_assert_not(ipc_eom_decode(&in, &d));
}

Test(ipc_txn, scan_request_and_result_round_trip)
{
	static struct ipc_scan_request r = { .outbound = true, .size = 4096, .n_rcpts = 40, .n_listed = 2,
					     .n_symbols = 1 }, rd;
	strcpy(r.queue_id, "6B15C9B9A8412927");
	strcpy(r.sender, "a@b.test");
	strcpy(r.auth, "alice");
	strcpy(r.rcpts[0], "x@example.test");
	strcpy(r.rcpts[1], "y@example.test");
	strcpy(r.symbols[0].name, "RDNS_NONE");
	r.symbols[0].points = 2;
	ipc_scan_request_encode(&out, 3, &r);
	transmit();
	cr_assert(ipc_scan_request_decode(&in, &rd));
	cr_assert(rd.outbound);
	cr_assert_eq(rd.size, 4096);
	cr_assert_str_eq(rd.queue_id, "6B15C9B9A8412927");
	cr_assert_str_eq(rd.auth, "alice");
	cr_assert_eq(rd.n_rcpts, 40);
	cr_assert_eq(rd.n_listed, 2);
	cr_assert_str_eq(rd.rcpts[1], "y@example.test");
	cr_assert_str_eq(rd.symbols[0].name, "RDNS_NONE");
	r.n_rcpts = 1;  /* more listed than there are */
	ipc_scan_request_encode(&out, 3, &r);
	transmit();
	cr_assert_not(ipc_scan_request_decode(&in, &rd));

	struct ipc_scan_result s = { .n_symbols = 1, .refused = true }, sd;
	strcpy(s.symbols[0].name, "HEADER_MISSING_DATE");
	s.symbols[0].points = 3;
	strcpy(s.reply, "550 5.6.0 no date");
	strcpy(s.headers, "X-A: 1\r\nX-B: 2\r\n");
	ipc_scan_result_encode(&out, 3, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert(sd.refused);
	cr_assert_str_eq(sd.reply, "550 5.6.0 no date");
	cr_assert_str_eq(sd.headers, "X-A: 1\r\nX-B: 2\r\n");
	cr_assert_not(sd.malware);
	s.malware = true;  /* SCAN-11: a finding the refusal leaves no symbol of */
	ipc_scan_result_encode(&out, 3, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert(sd.malware);
}

Test(ipc_txn, scan_result_that_could_smuggle_headers_or_a_reply_is_refused)
{
	const char *bad_headers[] = { "X-A: 1\nX-B: 2\r\n", "X-A: 1\r\n\r\nbody\r\n", "X-A: 1", "X-A: \x01\r\n",
				      " folded first\r\n", "no colon\r\n", ": no name\r\n" };
	struct ipc_scan_result s = { 0 }, sd;
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		memset(&s, 0, sizeof(s));
		strcpy(s.headers, bad_headers[i]);
		ipc_scan_result_encode(&out, 1, &s);
		transmit();
		cr_assert_not(ipc_scan_result_decode(&in, &sd), "headers %zu accepted", i);
	}
	memset(&s, 0, sizeof(s));
	s.refused = true;
	strcpy(s.reply, "250 ok, delivered");
	ipc_scan_result_encode(&out, 1, &s);
	transmit();
	cr_assert_not(ipc_scan_result_decode(&in, &sd), "a refusal must be a 4xx/5xx reply");
}

/* A hold (SCAN-9, SCAN-10) travels with its detail; an unknown kind, a
 * detail without a hold or one with a line break is refused. */
Test(ipc_txn, scan_result_hold_is_checked)
{
	struct ipc_scan_result s = { .hold = IPC_HOLD_MALWARE }, sd;
	strcpy(s.hold_detail, "clamav found Eicar-Test-Signature in part 2");
	ipc_scan_result_encode(&out, 1, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert_eq(sd.hold, IPC_HOLD_MALWARE);
	cr_assert_str_eq(sd.hold_detail, s.hold_detail);
	s.hold = 3;
	ipc_scan_result_encode(&out, 1, &s);
	transmit();
	cr_assert_not(ipc_scan_result_decode(&in, &sd), "unknown hold");
	s.hold = IPC_HOLD_POLICY;
	strcpy(s.hold_detail, "a\r\nX-Evil: 1");
	ipc_scan_result_encode(&out, 1, &s);
	transmit();
	cr_assert_not(ipc_scan_result_decode(&in, &sd), "a line break in the detail");
}

/* SCAN-11: the rehearsed level travels to the scanner, and what its
 * check actions would have done comes back; an unknown kind, a check
 * without a kind or one that is no token is refused. */
Test(ipc_txn, rehearsal_travels_and_is_checked)
{
	static struct ipc_scan_request r = { .level = 1, .rehearse = 3 }, rd;
	ipc_scan_request_encode(&out, 2, &r);
	transmit();
	cr_assert(ipc_scan_request_decode(&in, &rd));
	cr_assert_eq(rd.level, 1);
	cr_assert_eq(rd.rehearse, 3);

	struct ipc_scan_result s = { .rehearsed = IPC_REHEARSED_QUARANTINE }, sd;
	strcpy(s.rehearsed_by, "content.attachments");
	ipc_scan_result_encode(&out, 2, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert_eq(sd.rehearsed, IPC_REHEARSED_QUARANTINE);
	cr_assert_str_eq(sd.rehearsed_by, "content.attachments");
	s.rehearsed = IPC_REHEARSED_REFUSE + 1;
	ipc_scan_result_encode(&out, 2, &s);
	transmit();
	cr_assert_not(ipc_scan_result_decode(&in, &sd), "unknown kind");
	s.rehearsed = IPC_REHEARSED_REFUSE;
	strcpy(s.rehearsed_by, "content.x\r\nX-Evil: 1");
	ipc_scan_result_encode(&out, 2, &s);
	transmit();
	cr_assert_not(ipc_scan_result_decode(&in, &sd), "not a token");
}

/* The release headers (our DKIM signature over a held original) travel
 * back; like the headers to add, they must be whole header fields. */
Test(ipc_txn, scan_result_release_headers_are_checked)
{
	struct ipc_scan_result s = { 0 }, sd;
	strcpy(s.release_headers, "DKIM-Signature: v=1; a=rsa-sha256; d=corp.test;\r\n\tb=abc\r\n");
	ipc_scan_result_encode(&out, 3, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert_str_eq(sd.release_headers, s.release_headers);
	strcpy(s.release_headers, "DKIM-Signature: v=1\r\n\r\nbody");
	ipc_scan_result_encode(&out, 3, &s);
	transmit();
	cr_assert_not(ipc_scan_result_decode(&in, &sd), "an empty line would end the header section");
}

/* The scanner's Authentication-Results part (DKIM, DMARC) goes into a
 * header the queue writes: nothing in it may end the field or open a
 * comment that swallows what follows. */
Test(ipc_txn, scan_result_auth_results_are_checked)
{
	struct ipc_scan_result s = { 0 }, sd;
	strcpy(s.auth_results, "dkim=pass header.d=example.org header.s=s1; dmarc=fail (p=reject) header.from=x.test");
	ipc_scan_result_encode(&out, 1, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert_str_eq(sd.auth_results, s.auth_results);
	const char *bad[] = { "dkim=pass\r\nX-Spam-Flag: NO", "dmarc=fail (p=reject", "dmarc=fail p=reject)",
			      "dkim=fail ((nested))", "dkim=pass header.d=\"x\"", "dkim=fail (a\\) b)", "dkim=\x80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&s, 0, sizeof(s));
		strcpy(s.auth_results, bad[i]);
		ipc_scan_result_encode(&out, 1, &s);
		transmit();
		cr_assert_not(ipc_scan_result_decode(&in, &sd), "auth_results %zu accepted", i);
	}
}

/* smtpd's SPF result reaches the scanner for DMARC. */
Test(ipc_txn, scan_request_carries_the_spf_result)
{
	struct ipc_scan_request r = { .size = 1 }, rd;
	strcpy(r.queue_id, "6B15C9B9A8412927");
	strcpy(r.spf, "pass");
	strcpy(r.spf_domain, "example.org");
	ipc_scan_request_encode(&out, 1, &r);
	transmit();
	cr_assert(ipc_scan_request_decode(&in, &rd));
	cr_assert_str_eq(rd.spf, "pass");
	cr_assert_str_eq(rd.spf_domain, "example.org");
	strcpy(r.spf_domain, "example.org (forged)");
	ipc_scan_request_encode(&out, 1, &r);
	transmit();
	cr_assert_not(ipc_scan_request_decode(&in, &rd));
}

Test(ipc_txn, scan_result_carries_a_rewritten_size_only_with_the_flag)
{
	struct ipc_scan_result s = { .rewritten = true, .rewritten_size = 4711 }, sd;
	ipc_scan_result_encode(&out, 2, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert(sd.rewritten);
	cr_assert_eq(sd.rewritten_size, 4711);

	memset(&s, 0, sizeof(s));
	ipc_scan_result_encode(&out, 2, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert_not(sd.rewritten);

	/* A hand-made result with a size but no flag, or a flag that is not 0/1/2. */
	for (uint32_t flag = 0; flag <= 3; flag += 3) {
		ipc_msg_init(&out, IPC_SCAN_RESULT, 2);
		ipc_put_u32(&out, 0);     /* no symbols */
		ipc_put_u32(&out, 0);     /* not refused */
		ipc_put_str(&out, "");    /* reply */
		ipc_put_str(&out, "");    /* headers */
		ipc_put_str(&out, "");    /* auth_results */
		ipc_put_u32(&out, flag);
		ipc_put_u64(&out, 99);
		transmit();
		cr_assert_not(ipc_scan_result_decode(&in, &sd), "flag %u with a size accepted", flag);
	}
}

Test(ipc_txn, scan_result_says_a_rewrite_is_the_strip_actions)
{
	struct ipc_scan_result s = { .rewritten = true, .rewritten_size = 99, .stripped = true }, sd;
	ipc_scan_result_encode(&out, 2, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert(sd.rewritten && sd.stripped);
	cr_assert_eq(sd.rewritten_size, 99);

	s.rewritten = false;  /* stripped means nothing without a rewrite */
	s.rewritten_size = 0;
	ipc_scan_result_encode(&out, 2, &s);
	transmit();
	cr_assert(ipc_scan_result_decode(&in, &sd));
	cr_assert_not(sd.rewritten || sd.stripped);
}

Test(ipc_txn, begin_round_trip_and_unknown_flags_refused)
{
	static struct ipc_txn_begin b, d;
	strcpy(b.session, "0123456789abcdef");
	strcpy(b.client, "192.0.2.1");
	strcpy(b.helo, "client.example");
	strcpy(b.sender, "");
	b.size = 1234;
	b.flags = IPC_TXN_F_8BITMIME;
	ipc_txn_begin_encode(&out, 5, &b);
	transmit();
	cr_assert(ipc_txn_begin_decode(&in, &d));
	cr_assert_str_eq(d.helo, "client.example");
	cr_assert_str_eq(d.sender, "");
	cr_assert_eq(d.size, 1234);
	cr_assert_eq(d.flags, IPC_TXN_F_8BITMIME);
	b.flags = IPC_TXN_F_SMTPUTF8 | IPC_TXN_F_REQUIRETLS;   /* RFC 8689 */
	ipc_txn_begin_encode(&out, 5, &b);
	transmit();
	cr_assert(ipc_txn_begin_decode(&in, &d));
	cr_assert_eq(d.flags, IPC_TXN_F_SMTPUTF8 | IPC_TXN_F_REQUIRETLS);
	b.flags = 0x80;
	ipc_txn_begin_encode(&out, 5, &b);
	transmit();
	cr_assert_not(ipc_txn_begin_decode(&in, &d));
}

Test(ipc_txn, text_pair_empty_and_scan_file_layouts)
{
	char a[64], b[64];
	ipc_txn_text_encode(&out, IPC_TXN_RCPT, 2, "user@example.test");
	transmit();
	cr_assert(ipc_txn_text_decode(&in, a, sizeof(a)));
	cr_assert_str_eq(a, "user@example.test");
	ipc_txn_pair_encode(&out, IPC_TXN_DSN, 2, "FULL", "id+2B1");
	transmit();
	cr_assert(ipc_txn_pair_decode(&in, a, sizeof(a), b, sizeof(b)));
	cr_assert_str_eq(b, "id+2B1");
	cr_assert_not(ipc_txn_text_decode(&in, a, sizeof(a)), "a pair read as a text has bytes left");
	ipc_txn_empty_encode(&out, IPC_TXN_OPEN, 2);
	transmit();
	cr_assert(ipc_txn_empty_decode(&in));
	uint32_t index, total;
	ipc_scan_file_encode(&out, 3, 4);
	transmit();
	cr_assert(ipc_scan_file_decode(&in, &index, &total));
	cr_assert_eq(index, 3);
	ipc_scan_file_encode(&out, 4, 4);
	transmit();
	cr_assert_not(ipc_scan_file_decode(&in, &index, &total), "an index past the total");
}

/* SCAN-11: the emergency level a message's session began under and the
 * one it rehearsed travel with its end of message; a rehearsal note that
 * could break a log line or the verdict record is refused. */
Test(ipc_txn, end_of_message_carries_the_sessions_emergency_level_and_rehearsal)
{
	struct ipc_eom e = { .size = 1, .level = 2, .rehearse = 1 }, d;
	strcpy(e.rehearsal, "limits.recipients");
	ipc_eom_encode(&out, 1, &e);
	transmit();
	cr_assert(ipc_eom_decode(&in, &d));
	cr_assert_eq(d.level, 2);
	cr_assert_eq(d.rehearse, 1);
	cr_assert_str_eq(d.rehearsal, "limits.recipients");
	strcpy(e.rehearsal, "limits; evil");
	ipc_eom_encode(&out, 1, &e);
	transmit();
	cr_assert_not(ipc_eom_decode(&in, &d));
}

Test(ipc_txn, the_level_message_round_trips_and_refuses_bytes_left_over)
{
	uint32_t n, r;
	ipc_level_encode(&out, 3, 1);
	transmit();
	cr_assert(ipc_level_decode(&in, &n, &r));
	cr_assert_eq(n, 3);
	cr_assert_eq(r, 1);
	ipc_level_encode(&out, 3, 1);
	ipc_put_u32(&out, 7);
	transmit();
	cr_assert_not(ipc_level_decode(&in, &n, &r));
}

Test(ipc_txn, the_sessions_message_round_trips_and_refuses_bytes_left_over)
{
	uint32_t n;
	ipc_sessions_encode(&out, 812);
	transmit();
	cr_assert(ipc_sessions_decode(&in, &n));
	cr_assert_eq(n, 812);
	ipc_sessions_encode(&out, 812);
	ipc_put_u32(&out, 7);
	transmit();
	cr_assert_not(ipc_sessions_decode(&in, &n));
}

Test(ipc_txn, the_spool_space_message_round_trips_and_refuses_bytes_left_over)
{
	uint64_t free_bytes;
	ipc_spool_space_encode(&out, 5ull << 40);
	transmit();
	cr_assert(ipc_spool_space_decode(&in, &free_bytes));
	cr_assert_eq(free_bytes, 5ull << 40);
	ipc_spool_space_encode(&out, 1);
	ipc_put_u32(&out, 7);
	transmit();
	cr_assert_not(ipc_spool_space_decode(&in, &free_bytes));
}
