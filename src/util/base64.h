/*
 * The base64 alphabet (RFC 4648 section 4), for the decoders that must
 * read base64 their own way: SASL's strict one (auth/sasl.c) and the
 * salvage view's lenient ones (content/salvage.c).
 */
#ifndef MW_UTIL_BASE64_H
#define MW_UTIL_BASE64_H

/* The 6-bit value of c, or -1 when c is not in the alphabet ('=' is not).
 * A table (of value + 1, so that the rest is 0): the salvage view asks
 * for every byte of every text run. */
static inline int base64_value(unsigned char c)
{
#define B64_ROW(b) b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, \
	b + 13, b + 14, b + 15, b + 16, b + 17, b + 18, b + 19, b + 20, b + 21, b + 22, b + 23, b + 24, b + 25
	static const unsigned char value1[256] = {
		['+'] = 63, ['/'] = 64,
		['0'] = 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
		['A'] = B64_ROW(1),
		['a'] = B64_ROW(27),
	};
#undef B64_ROW
	return value1[c] - 1;
}

#endif
