/*
 * TLSA records (RFC 6698) as DANE for SMTP uses them (RFC 7672 3.1):
 * only DANE-TA(2) and DANE-EE(3), selector Cert(0) or SPKI(1), matching
 * Full(0), SHA2-256(1) or SHA2-512(2). Others are "unusable": a host
 * whose records are all unusable gets opportunistic TLS (RFC 7672 2.2).
 */
#ifndef MW_DNS_TLSA_H
#define MW_DNS_TLSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSA_RECORDS_MAX 8
#define TLSA_DATA_MAX 2048   /* a full certificate (matching 0); longer ones are skipped */

struct tlsa_record {
	uint8_t usage, selector, mtype;
	size_t len;
	uint8_t data[TLSA_DATA_MAX];
};

struct tlsa_set {
	size_t n;
	struct tlsa_record r[TLSA_RECORDS_MAX];
};

/* Adds the record in rdata (wire format) to set if it is usable and there
 * is room; false if it was not added. */
bool tlsa_add_usable(struct tlsa_set *set, const uint8_t *rdata, size_t len);

#endif
