/* Spool envelope records: round trip, in-place status bytes, and refusal
 * of torn or corrupt files. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "queue/envelope.h"

static unsigned char *sample(size_t *len, struct envelope *e)
{
	memset(e, 0, sizeof(*e));
	e->arrival = 1700000000;
	e->session = strdup("abc");
	e->client = strdup("127.0.0.2");
	e->helo = strdup("client.test");
	e->sender = strdup("a@b.test");
	e->flags = 3;
	envelope_add_rcpt(e, "x@example.test");
	envelope_add_rcpt(e, "y@example.test");
	return envelope_encode(e, len);
}

Test(envelope, round_trip)
{
	struct envelope e, d = { 0 };
	size_t len;
	unsigned char *buf = sample(&len, &e);
	cr_assert(envelope_decode(buf, len, &d));
	cr_assert_str_eq(d.sender, "a@b.test");
	cr_assert_str_eq(d.helo, "client.test");
	cr_assert_eq(d.n_rcpts, 2);
	cr_assert_str_eq(d.rcpts[1].addr, "y@example.test");
	cr_assert_eq(d.rcpts[0].status, RCPT_PENDING);
	cr_assert_eq(d.flags, 3);
	cr_assert_eq(d.body_offset, (off_t)len);
	cr_assert_eq(d.rcpts[1].status_offset, e.rcpts[1].status_offset);
	envelope_clear(&d);
	envelope_clear(&e);
	free(buf);
}

Test(envelope, status_byte_is_rewritten_in_place)
{
	struct envelope e, d = { 0 };
	size_t len;
	unsigned char *buf = sample(&len, &e);
	buf[e.rcpts[0].status_offset] = RCPT_DELIVERED;
	cr_assert(envelope_decode(buf, len, &d));
	cr_assert_eq(d.rcpts[0].status, RCPT_DELIVERED);
	cr_assert_eq(d.rcpts[1].status, RCPT_PENDING);
	envelope_clear(&d);
	envelope_clear(&e);
	free(buf);
}

Test(envelope, every_truncation_is_refused)
{
	struct envelope e;
	size_t len;
	unsigned char *buf = sample(&len, &e);
	for (size_t cut = 0; cut < len; cut++) {
		struct envelope d = { 0 };
		cr_assert_not(envelope_decode(buf, cut, &d), "torn file of %zu bytes accepted", cut);
		envelope_clear(&d);
	}
	envelope_clear(&e);
	free(buf);
}

Test(envelope, corrupt_records_are_refused)
{
	struct envelope e;
	size_t len;
	unsigned char *buf = sample(&len, &e);
	struct envelope d = { 0 };
	unsigned char *bad = malloc(len);
	memcpy(bad, buf, len);
	bad[e.rcpts[0].status_offset] = 'Z';          /* unknown status */
	cr_assert_not(envelope_decode(bad, len, &d));
	envelope_clear(&d);
	memcpy(bad, buf, len);
	bad[4] = '?';                                 /* unknown record type */
	cr_assert_not(envelope_decode(bad, len, &d));
	envelope_clear(&d);
	memcpy(bad, buf, len);
	bad[0] = 'X';                                 /* magic */
	cr_assert_not(envelope_decode(bad, len, &d));
	envelope_clear(&d);
	memcpy(bad, buf, len);
	bad[5] = 0x7f;                                /* record length past the end */
	cr_assert_not(envelope_decode(bad, len, &d));
	envelope_clear(&d);
	free(bad);
	envelope_clear(&e);
	free(buf);
}

Test(envelope, queue_ids)
{
	char id[QUEUE_ID_LEN + 1];
	queue_id_new(id);
	cr_assert(queue_id_valid(id));
	cr_assert_not(queue_id_valid("../../etc/passwd"));
	cr_assert_not(queue_id_valid("0123456789ABCDE"));
	cr_assert_not(queue_id_valid("0123456789ABCDEF0"));
	cr_assert_not(queue_id_valid("0123456789abcdef"));
	cr_assert_not(queue_id_valid(""));
}

/* DSN parameters (RFC 3461) and the delay-warning byte survive the spool. */
Test(envelope, dsn_parameters_round_trip)
{
	struct envelope e, d = { 0 };
	size_t len;
	memset(&e, 0, sizeof(e));
	e.arrival = 1;
	e.sender = strdup("a@b.test");
	e.dsn_ret = strdup("HDRS");
	e.dsn_envid = strdup("QQ314159");
	envelope_add_rcpt(&e, "x@example.test");
	envelope_add_rcpt(&e, "y@example.test");
	e.rcpts[0].dsn_notify = strdup("SUCCESS,FAILURE");
	e.rcpts[0].dsn_orcpt = strdup("rfc822;X@Example.test");
	e.rcpts[1].dsn_notify = strdup("NEVER");
	unsigned char *buf = envelope_encode(&e, &len);
	cr_assert(envelope_decode(buf, len, &d));
	cr_assert_str_eq(d.dsn_ret, "HDRS");
	cr_assert_str_eq(d.dsn_envid, "QQ314159");
	cr_assert_str_eq(d.rcpts[0].dsn_notify, "SUCCESS,FAILURE");
	cr_assert_str_eq(d.rcpts[0].dsn_orcpt, "rfc822;X@Example.test");
	cr_assert_str_eq(d.rcpts[1].dsn_notify, "NEVER");
	cr_assert_null(d.rcpts[1].dsn_orcpt);
	cr_assert_not(d.warned);
	buf[e.warn_offset] = 'W';
	envelope_clear(&d);
	cr_assert(envelope_decode(buf, len, &d));
	cr_assert(d.warned);
	envelope_clear(&d);
	envelope_clear(&e);
	free(buf);
}

/* A file written before the DSN records existed (0.1: no 'W', 'P', 'D')
 * still decodes: the format is extended, not changed. */
Test(envelope, files_without_the_newer_records_still_decode)
{
	static const unsigned char old[] =
		"MWQ1"
		"T\0\0\0\x08\0\0\0\0\0\0\0\x01"
		"S\0\0\0\x01" "s" "C\0\0\0\x01" "c" "H\0\0\0\x01" "h"
		"X\0\0\0\x04\0\0\0\0"
		"F\0\0\0\x08" "a@b.test"
		"R\0\0\0\x0f" "-x@example.test"
		"E\0\0\0\0"
		"Received: x\r\n";
	struct envelope d = { 0 };
	cr_assert(envelope_decode(old, sizeof(old) - 1, &d));
	cr_assert_str_eq(d.rcpts[0].addr, "x@example.test");
	cr_assert_null(d.rcpts[0].dsn_notify);
	cr_assert_null(d.dsn_ret);
	cr_assert_eq(d.warn_offset, 0);
	envelope_clear(&d);
}

Test(envelope, dsn_record_without_separator_or_before_a_recipient_is_corrupt)
{
	static const unsigned char nosep[] =
		"MWQ1" "F\0\0\0\x01" "a" "R\0\0\0\x03" "-ab" "P\0\0\0\x03" "abc" "E\0\0\0\0";
	static const unsigned char early[] =
		"MWQ1" "F\0\0\0\x01" "a" "P\0\0\0\x01" "\0" "R\0\0\0\x03" "-ab" "E\0\0\0\0";
	struct envelope d = { 0 };
	cr_assert_not(envelope_decode(nosep, sizeof(nosep) - 1, &d));
	envelope_clear(&d);
	cr_assert_not(envelope_decode(early, sizeof(early) - 1, &d));
	envelope_clear(&d);
}

/* RFC 8689: REQUIRETLS is a bit of the 'X' record; a file written before
 * it has the bit clear and reads as before. */
Test(envelope, requiretls_flag_round_trip)
{
	struct envelope e, d = { 0 };
	size_t len;
	unsigned char *buf = sample(&len, &e);
	cr_assert(envelope_decode(buf, len, &d));
	cr_assert_not(d.flags & ENVELOPE_F_REQUIRETLS);
	envelope_clear(&d);
	free(buf);
	e.flags |= ENVELOPE_F_REQUIRETLS;
	buf = envelope_encode(&e, &len);
	cr_assert(envelope_decode(buf, len, &d));
	cr_assert_eq(d.flags, 3 | ENVELOPE_F_REQUIRETLS);
	envelope_clear(&d);
	envelope_clear(&e);
	free(buf);
}
