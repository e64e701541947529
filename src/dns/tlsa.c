#include "dns/tlsa.h"

#include <string.h>

enum { USAGE_DANE_TA = 2, USAGE_DANE_EE = 3, SELECTOR_SPKI = 1, MTYPE_SHA512 = 2 };

/* The length a digest must have, 0 for a full certificate or key. */
static size_t digest_len(uint8_t mtype)
{
	return mtype == 1 ? 32 : mtype == MTYPE_SHA512 ? 64 : 0;
}

bool tlsa_add_usable(struct tlsa_set *set, const uint8_t *rdata, size_t len)
{
	if (len < 4 || set->n >= TLSA_RECORDS_MAX)
		return false;
	uint8_t usage = rdata[0], selector = rdata[1], mtype = rdata[2];
	size_t dlen = len - 3;
	if ((usage != USAGE_DANE_TA && usage != USAGE_DANE_EE) || selector > SELECTOR_SPKI || mtype > MTYPE_SHA512)
		return false;
	if (dlen > TLSA_DATA_MAX || (digest_len(mtype) && dlen != digest_len(mtype)))
		return false;
	struct tlsa_record *r = &set->r[set->n++];
	*r = (struct tlsa_record){ .usage = usage, .selector = selector, .mtype = mtype, .len = dlen };
	memcpy(r->data, rdata + 3, dlen);
	return true;
}
