/*
 * Mail-loop detection (RFC 5321 6.3): counts the trace fields of a
 * message's header block (Received:, and Delivered-To: that local
 * delivery agents add) as the bytes stream past, whatever the size of the
 * pieces. A message that has passed through more hops than any sane
 * route has is circling; the gateway refuses it (554 5.4.6) instead of
 * sending it round once more. Pure logic, no I/O.
 */
#ifndef MW_SMTP_HOPS_H
#define MW_SMTP_HOPS_H

#include <stdbool.h>
#include <stddef.h>

/* Postfix's hopcount_limit: more trace fields than this is a loop. */
#define HOPS_MAX 50

/* Long enough for the longest name we look for, "delivered-to:". */
#define HOPS_PREFIX 13

struct hops {
	unsigned count;           /* trace fields seen so far */
	bool body;                /* past the empty line ending the header block */
	unsigned char col;        /* bytes of the current line held in start[] */
	char start[HOPS_PREFIX];  /* the first bytes of the current line */
};

/* Feed the next len bytes of the message (CRLF line ends). */
void hops_feed(struct hops *h, const char *p, size_t len);

static inline bool hops_loop(const struct hops *h) { return h->count > HOPS_MAX; }

#endif
