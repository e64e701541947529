/*
 * Is a block of header lines safe to put on top of a message? Used where
 * another process hands us header lines (the scanner's result, the spool
 * trailer): every line a header field (RFC 5322 2.2: a field name of
 * printable characters without ':', then ':') or a folded continuation of
 * the line before, CRLF at the end of each, no other control character
 * than HT, and no empty line (which would end the header section and turn
 * the client's headers into body text).
 */
#ifndef MW_UTIL_HEADERFIELD_H
#define MW_UTIL_HEADERFIELD_H

#include <stdbool.h>
#include <stddef.h>

bool header_block_valid(const char *p, size_t n);

#endif
