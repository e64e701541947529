/*
 * The message as delivery sends it: the header lines the verdict adds
 * (Authentication-Results, X-Spam-*, from the spool file's trailer), the
 * message's own bytes with the subject prefix applied to its first
 * Subject header, up to the committed end — never to the end of the file
 * (the trailer follows it). The verdict is applied here, by the queue, not
 * written into the stream by smtpd (SEC-1).
 *
 * A view is a small prefix in memory plus a range of the spool file:
 * prefix, then file bytes [from, end). Runs in the queue process.
 */
#ifndef MW_QUEUE_MSGVIEW_H
#define MW_QUEUE_MSGVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "queue/envelope.h"

struct msgview {
	char *prefix;       /* added headers, and the rewritten part of the message */
	size_t prefix_len;
	off_t from, end;    /* the rest of the message in the spool file */
};

/* Build the view of e's message in fd. False: the file could not be read. */
bool msgview_open(struct msgview *v, int fd, const struct envelope *e);
void msgview_close(struct msgview *v);
/* Bytes delivery sends (before dot-stuffing). */
unsigned long long msgview_size(const struct msgview *v);

/* The scanner's view of a message (issue 10, SEC-1): a copy of fd's bytes
 * [from, end) in a memfd sealed against every change (write, grow, shrink,
 * and new seals), so the descriptor handed to the scanner reaches nothing
 * but this one message and cannot alter it. Returns the memfd or -1. */
int msgview_sealed_copy(int fd, off_t from, off_t end);

/* Offset of the first "Subject:" header line in the header section of
 * msg[0..len) (a line start before the first empty line), or -1. */
long msgview_find_subject(const char *msg, size_t len);

#endif
