/*
 * Delivery status notifications (RFC 3464): the bounce, delay warning or
 * success notice the queue sends to an envelope sender, as a
 * multipart/report; report-type=delivery-status message with a
 * human-readable part, the message/delivery-status part and the original
 * message's headers (text/rfc822-headers). Pure: builds bytes, no I/O.
 * The queue sends it from the null sender (RFC 5321 4.5.5) so that it can
 * never cause another bounce.
 */
#ifndef MW_QUEUE_DSN_H
#define MW_QUEUE_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum dsn_action { DSN_FAILED, DSN_DELAYED, DSN_DELIVERED, DSN_RELAYED };

struct dsn_rcpt {
	const char *addr;          /* the recipient as queued */
	const char *orcpt;         /* original recipient (ORCPT / before rewriting), or NULL */
	enum dsn_action action;
	const char *reply;         /* last reply, "550 5.1.1 no such user", or a reason of ours */
	const char *remote_mta;    /* next hop that gave the reply, or NULL */
};

struct dsn_info {
	const char *reporting_mta; /* our hostname */
	const char *queue_id;      /* of the original message */
	const char *envid;         /* ENVID (RFC 3461), or NULL */
	const char *to;            /* who gets the report (the original envelope sender) */
	time_t arrival, now;
	const char *boundary;      /* unique per message; must not occur in headers */
	const char *message_id;    /* for the report's Message-ID: header, without <> */
	bool full;                 /* RET=FULL: content is the whole message (message/rfc822) */
};

/* The complete report message (CRLF lines). content/clen: the original
 * message's header section (up to, not including, the empty line), cut
 * at a line boundary if longer than DSN_HEADERS_MAX; or with info->full
 * the whole original message (RFC 3461 4.3 RET=FULL; the caller bounds
 * it by DSN_FULL_MAX). Returns a malloc'ed buffer, its length in *len. */
#define DSN_HEADERS_MAX (64u * 1024)
#define DSN_FULL_MAX (1024u * 1024)
char *dsn_build(const struct dsn_info *info, const struct dsn_rcpt *rcpts, size_t n,
		const char *content, size_t clen, size_t *len);

/* The status code for a reply (RFC 3463): the enhanced code it carries
 * ("5.1.1"), else class.0.0 from the basic code. out holds 16 bytes. */
void dsn_status(const char *reply, char out[16]);

#endif
