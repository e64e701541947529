#include "util/utf8.h"

size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
	unsigned char b0 = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (b0 >= 0xC2 && b0 <= 0xDF) {
		n = 2;
		if (b0 == 0xC2)
			lo = 0xA0; /* C2 80-9F are the C1 controls */
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		n = 3;
		if (b0 == 0xE0)
			lo = 0xA0; /* overlong */
		else if (b0 == 0xED)
			hi = 0x9F; /* surrogates D800-DFFF */
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		n = 4;
		if (b0 == 0xF0)
			lo = 0x90; /* overlong */
		else if (b0 == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* Consume one UTF8-non-ascii character (RFC 6531 3.3) at the cursor, whose
 * first byte is >= 0x80. Without SMTPUTF8 8-bit is refused outright. */
