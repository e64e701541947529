/*
 * The quarantine digest mail (issue 11): one plain-text message to one
 * recipient listing the inbound mail held for them since their last
 * digest: date, sender, subject, score and id of each, at most
 * queue.quarantine_digest_max of them, then how many more. Pure text
 * building (no I/O but the FILE it writes to), so it is unit-tested
 * alone; keeper_digest (digest_send.c) queues it.
 */
#ifndef MW_QUARANTINE_DIGEST_H
#define MW_QUARANTINE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct qindex_row;

struct digest_head {
	const char *hostname;    /* the gateway, named in the text and the Message-ID */
	const char *from, *to;   /* mailboxes */
	const char *subject;     /* printable ASCII (checked by the configuration) */
	const char *message_id;  /* "<...>" */
	time_t now;
	size_t total;            /* messages held for to since the last digest */
};

/* The header section and the opening lines; CRLF line ends. */
void digest_write_head(FILE *out, const struct digest_head *h);
/* One held message. */
void digest_write_entry(FILE *out, const struct qindex_row *r);
/* The closing lines: how many were not listed (total - listed), and
 * how to get one released. */
void digest_write_tail(FILE *out, size_t listed, size_t total);

/* "HH:MM" (00:00 to 23:59) as minutes after midnight, or -1. */
int digest_time_of_day(const char *text);

/* Is a digest due at now, the last one sent at last? With at_minute >= 0
 * (queue.quarantine_digest_at) once a day at that local time: due when
 * that time has come since last (a gateway that was down at the time
 * sends it when it is back); otherwise every interval seconds after last. */
bool digest_due(time_t now, time_t last, int at_minute, unsigned interval);

#endif
