/*
 * UTF-8 well-formedness (RFC 3629 4, Unicode Table 3-7), shared by every
 * parser that admits UTF-8 from the network (RFC 6531 addresses and
 * parameters). Pure logic.
 */
#ifndef MW_UTIL_UTF8_H
#define MW_UTIL_UTF8_H

#include <stddef.h>

/*
 * Length of the well-formed UTF-8 sequence at p[0..avail), or 0 if it is
 * not one: no overlongs (C0, C1, E0 80-9F, F0 80-8F), no UTF-16 surrogates
 * (ED A0-BF), nothing above U+10FFFF (F4 90+, F5-FF), no stray
 * continuation bytes, no truncated sequence. The C1 controls
 * U+0080-U+009F are refused too: control characters are always errors.
 */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

#endif
