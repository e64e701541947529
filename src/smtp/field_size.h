/*
 * The length of each header field of a message as the bytes stream past
 * (a field with its folded continuation lines), whatever the size of the
 * pieces. A field longer than FIELD_SIZE_MAX is refused at the final dot
 * (552 5.3.4): no mail program writes one, and it is a known attack on
 * header parsers (attack case 137, Exim CVE-2020-28020: an integer
 * overflow on continuation lines). It also bounds the work of the content
 * scanner's MIME parser, which grows a folded field's buffer in small
 * steps (quadratic where realloc copies). Pure logic, no I/O.
 */
#ifndef MW_SMTP_FIELD_SIZE_H
#define MW_SMTP_FIELD_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Postfix's header_size_limit: 100 KiB per field, folds included. */
#define FIELD_SIZE_MAX (100u * 1024)

struct field_size {
	uint64_t len;        /* bytes of the current field so far */
	unsigned line;       /* bytes of the current line so far */
	bool cr_only;        /* the current line is just "\r" so far */
	bool body;           /* past the empty line ending the header block */
	bool too_long;       /* some field was longer than FIELD_SIZE_MAX */
};

/* Feed the next len bytes of the message (CRLF line ends). */
void field_size_feed(struct field_size *f, const char *p, size_t len);

#endif
