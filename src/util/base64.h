/*
 * The base64 alphabet (RFC 4648 section 4), for the decoders that must
 * read base64 their own way: SASL's strict one (auth/sasl.c) and the
 * salvage view's lenient ones (content/salvage.c).
 */
#ifndef MW_UTIL_BASE64_H
#define MW_UTIL_BASE64_H

/* The 6-bit value of c, or -1 when c is not in the alphabet ('=' is not). */
static inline int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

#endif
