/* Which TLSA records DANE for SMTP can use (RFC 7672 3.1): DANE-TA(2)
 * and DANE-EE(3) with selector 0/1 and matching 0/1/2 of the right size;
 * PKIX-TA(0), PKIX-EE(1), unknown parameters and wrong digest lengths are
 * unusable and left out. */
#include <criterion/criterion.h>
#include <string.h>

#include "dns/tlsa.h"

static size_t rdata(uint8_t *buf, uint8_t usage, uint8_t selector, uint8_t mtype, size_t dlen)
{
	buf[0] = usage;
	buf[1] = selector;
	buf[2] = mtype;
	memset(buf + 3, 0xab, dlen);
	return 3 + dlen;
}

Test(tlsa, dane_ee_and_dane_ta_with_sha256_sha512_and_full_are_usable)
{
	static struct tlsa_set set;
	uint8_t buf[600];
	cr_assert(tlsa_add_usable(&set, buf, rdata(buf, 3, 1, 1, 32)));
	cr_assert(tlsa_add_usable(&set, buf, rdata(buf, 3, 0, 2, 64)));
	cr_assert(tlsa_add_usable(&set, buf, rdata(buf, 2, 0, 1, 32)));
	cr_assert(tlsa_add_usable(&set, buf, rdata(buf, 2, 1, 0, 500)));
	cr_assert_eq(set.n, 4);
	cr_assert_eq(set.r[0].usage, 3);
	cr_assert_eq(set.r[0].len, 32);
	cr_assert_eq(set.r[3].len, 500);
	cr_assert_eq(set.r[1].data[63], 0xab);
}

Test(tlsa, pkix_usages_unknown_parameters_and_bad_lengths_are_unusable)
{
	static struct tlsa_set set;
	uint8_t buf[100];
	cr_assert_not(tlsa_add_usable(&set, buf, rdata(buf, 0, 1, 1, 32)));   /* PKIX-TA */
	cr_assert_not(tlsa_add_usable(&set, buf, rdata(buf, 1, 1, 1, 32)));   /* PKIX-EE */
	cr_assert_not(tlsa_add_usable(&set, buf, rdata(buf, 4, 1, 1, 32)));
	cr_assert_not(tlsa_add_usable(&set, buf, rdata(buf, 3, 2, 1, 32)));
	cr_assert_not(tlsa_add_usable(&set, buf, rdata(buf, 3, 1, 3, 32)));
	cr_assert_not(tlsa_add_usable(&set, buf, rdata(buf, 3, 1, 1, 31)));   /* SHA-256 is 32 bytes */
	cr_assert_not(tlsa_add_usable(&set, buf, rdata(buf, 3, 1, 2, 32)));   /* SHA-512 is 64 */
	cr_assert_not(tlsa_add_usable(&set, buf, 3));                         /* no data */
	cr_assert_eq(set.n, 0);
}

Test(tlsa, at_most_tlsa_records_max_are_kept)
{
	static struct tlsa_set set;
	uint8_t buf[40];
	for (int i = 0; i < TLSA_RECORDS_MAX; i++)
		cr_assert(tlsa_add_usable(&set, buf, rdata(buf, 3, 1, 1, 32)));
	cr_assert_not(tlsa_add_usable(&set, buf, rdata(buf, 3, 1, 1, 32)));
	cr_assert_eq(set.n, TLSA_RECORDS_MAX);
}
