/* The spool file's trailer ("MWQ2"): the verdict, the headers to add and
 * the subject prefix are records the queue writes after the message, and
 * the message ends exactly where the trailer says (SEC-1, issue 18 item
 * 11: a cut-off file is corrupt, never a short message). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/envelope.h"

static const char body[] = "Received: x\r\nSubject: hi\r\n\r\nno final line end";

/* A whole file image: envelope, message, trailer. */
static unsigned char *file_image(struct envelope *e, const char *verdict, const char *headers, size_t *len)
{
	memset(e, 0, sizeof(*e));
	e->arrival = 1;
	e->sender = strdup("a@b.test");
	envelope_add_rcpt(e, "x@example.test");
	size_t elen, tlen;
	unsigned char *env = envelope_encode(e, &elen);
	e->verdict = verdict ? strdup(verdict) : NULL;
	e->add_headers = headers ? strdup(headers) : NULL;
	e->subject_prefix = verdict ? strdup("[SPAM]") : NULL;
	e->release_headers = verdict ? strdup("DKIM-Signature: v=1; d=corp.test\r\n") : NULL;
	unsigned char *tr = envelope_encode_trailer(e, sizeof(body) - 1, &tlen);
	*len = elen + sizeof(body) - 1 + tlen;
	unsigned char *f = malloc(*len);
	memcpy(f, env, elen);
	memcpy(f + elen, body, sizeof(body) - 1);
	memcpy(f + elen + sizeof(body) - 1, tr, tlen);
	free(env);
	free(tr);
	return f;
}

static bool decode_all(const unsigned char *f, size_t len, struct envelope *d)
{
	memset(d, 0, sizeof(*d));
	return envelope_decode(f, len, d) && d->has_trailer && envelope_decode_trailer(f, len, 0, d);
}

Test(envelope_trailer, round_trip_ends_the_message_where_it_ended)
{
	struct envelope e, d;
	size_t len;
	unsigned char *f = file_image(&e, "tag 5 RDNS_NONE(5)", "X-Spam-Flag: YES\r\n", &len);
	cr_assert(decode_all(f, len, &d));
	cr_assert_str_eq(d.verdict, "tag 5 RDNS_NONE(5)");
	cr_assert_str_eq(d.add_headers, "X-Spam-Flag: YES\r\n");
	cr_assert_str_eq(d.subject_prefix, "[SPAM]");
	cr_assert_str_eq(d.release_headers, "DKIM-Signature: v=1; d=corp.test\r\n");
	cr_assert_eq(d.body_end - d.body_offset, (off_t)sizeof(body) - 1);
	cr_assert_eq(memcmp(f + d.body_offset, body, sizeof(body) - 1), 0);
	envelope_clear(&d);
	envelope_clear(&e);
	free(f);
}

Test(envelope_trailer, absent_verdict_without_a_scanner)
{
	struct envelope e, d;
	size_t len;
	unsigned char *f = file_image(&e, NULL, NULL, &len);
	cr_assert(decode_all(f, len, &d));
	cr_assert_null(d.verdict);
	cr_assert_null(d.add_headers);
	cr_assert_null(d.release_headers);
	envelope_clear(&d);
	envelope_clear(&e);
	free(f);
}

Test(envelope_trailer, a_file_cut_anywhere_in_body_or_trailer_is_corrupt)
{
	struct envelope e, d;
	size_t len;
	unsigned char *f = file_image(&e, "accept 0 -", "Authentication-Results: h; none\r\n", &len);
	struct envelope probe;
	cr_assert(decode_all(f, len, &probe));
	for (size_t cut = (size_t)probe.body_offset; cut < len; cut++) {
		cr_assert_not(decode_all(f, cut, &d), "file cut at %zu of %zu accepted", cut, len);
		envelope_clear(&d);
	}
	envelope_clear(&probe);
	envelope_clear(&e);
	free(f);
}

Test(envelope_trailer, bytes_appended_after_the_trailer_are_corrupt)
{
	struct envelope e, d;
	size_t len;
	unsigned char *f = file_image(&e, "accept 0 -", NULL, &len);
	unsigned char *g = malloc(len + 5);
	memcpy(g, f, len);
	memcpy(g + len, "EVIL\n", 5);
	cr_assert_not(decode_all(g, len + 5, &d));
	envelope_clear(&d);
	envelope_clear(&e);
	free(f);
	free(g);
}

Test(envelope_trailer, headers_with_a_bare_line_feed_or_nul_are_corrupt)
{
	struct envelope e, d;
	size_t len;
	unsigned char *f = file_image(&e, "tag 5 X(5)", "X-A: 1\r\nX-B: 2\r\n", &len);
	unsigned char *h = memmem(f, len, "X-A: 1\r\n", 8);
	cr_assert_not_null(h);
	h[6] = ' ';  /* "X-A: 1 \nX-B..." : a bare LF */
	cr_assert_not(decode_all(f, len, &d));
	envelope_clear(&d);
	h[6] = '\r';
	h[3] = '\0';
	cr_assert_not(decode_all(f, len, &d));
	envelope_clear(&d);
	envelope_clear(&e);
	free(f);
}

/* Issue 14 (found by the power-loss torture with fsync skipped): a file
 * renamed into queue/ whose data never reached the disk is empty after the
 * crash. Reading it fails and leaves the envelope initialized, so the
 * caller's envelope_clear (spool_load) frees nothing it did not allocate. */
Test(envelope_trailer, an_empty_file_fails_and_leaves_the_envelope_clearable)
{
	char path[] = "/tmp/mw-envelope-empty-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	unlink(path);
	struct envelope e;
	memset(&e, 0xA5, sizeof(e));   /* what a stack variable may hold */
	cr_assert_not(envelope_read(fd, &e));
	cr_assert_null(e.sender);
	cr_assert_null(e.rcpts);
	cr_assert_eq(e.n_rcpts, 0);
	envelope_clear(&e);
	close(fd);
}
