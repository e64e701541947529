/* The scanner's verdict record ('V') in the spool envelope: optional,
 * round trip, and a NUL inside refuses the file like any other field. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "queue/envelope.h"

static unsigned char *encode(struct envelope *e, const char *verdict, size_t *len)
{
	memset(e, 0, sizeof(*e));
	e->arrival = 1;
	e->sender = strdup("a@b.test");
	e->verdict = verdict ? strdup(verdict) : NULL;
	envelope_add_rcpt(e, "x@example.test");
	return envelope_encode(e, len);
}

Test(envelope_verdict, round_trip)
{
	struct envelope e, d = { 0 };
	size_t len;
	unsigned char *buf = encode(&e, "quarantine 12 RBL_FILE(12)", &len);
	cr_assert(envelope_decode(buf, len, &d));
	cr_assert_str_eq(d.verdict, "quarantine 12 RBL_FILE(12)");
	cr_assert_eq(d.n_rcpts, 1);
	envelope_clear(&d);
	envelope_clear(&e);
	free(buf);
}

Test(envelope_verdict, absent_without_a_scanner)
{
	struct envelope e, d = { 0 };
	size_t len;
	unsigned char *buf = encode(&e, NULL, &len);
	cr_assert(envelope_decode(buf, len, &d));
	cr_assert_null(d.verdict);
	envelope_clear(&d);
	envelope_clear(&e);
	free(buf);
}

Test(envelope_verdict, nul_inside_is_corrupt)
{
	struct envelope e, d = { 0 };
	size_t len;
	unsigned char *buf = encode(&e, "tag 5 X", &len);
	unsigned char *v = memmem(buf, len, "tag 5 X", 7);
	cr_assert_not_null(v);
	v[3] = '\0';
	cr_assert_not(envelope_decode(buf, len, &d));
	envelope_clear(&d);
	envelope_clear(&e);
	free(buf);
}
