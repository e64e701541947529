/*
 * The envelope of a queued message and its on-disk form: typed,
 * length-carrying records after a magic, ending in an END record, then the
 * raw message (Received header first, CRLF line endings, not dot-stuffed),
 * then (since "MWQ2") a trailer written by the queue at the end of the
 * message, when the verdict is known:
 *
 *   "MWQ2"  envelope records ... 'E' | message | trailer records ... 'E' |
 *           "MWT1" u64 trailer offset (big endian)
 *
 *   records:  u8 type | u32 length (big endian) | data
 *     'T' arrival time, u64 seconds     'S' smtpd session id
 *     'C' client address                'H' HELO/EHLO name
 *     'X' flags, u32 (IPC_TXN_F_*)      'F' envelope sender ("" = null sender)
 *     'R' recipient: u8 status, then the address (the status byte is
 *         rewritten in place when the recipient is done)
 *     'V' scanner verdict "action score symbols" (optional)
 *     'P' DSN parameters of the recipient before it (RFC 3461): NOTIFY
 *         value, NUL, ORCPT value (either may be empty)   [since 0.2]
 *     'D' DSN parameters of the message: RET value, NUL, ENVID value [0.2]
 *     'W' u8: '-', or 'W' once the delay warning went out (rewritten in
 *         place like a recipient status)                 [since 0.2]
 *     'E' end of envelope, length 0
 *
 *   trailer records (the verdict is the queue's, never smtpd's bytes):
 *     'L' u64 message length: the message ends exactly there
 *     'V' verdict "action score symbols", points written as decimals
 *         ("tag 5.5 SUBJ_FREE(2.5),RDNS_NONE(3)"; before points had
 *         hundredths, whole numbers only, which read the same): text for
 *         people (queue show, quarantine list); only `quarantine list`
 *         reads the score back (points_parse(), either form)
 *     'A' header lines to add at delivery (Authentication-Results,
 *         X-Spam-*), CRLF-terminated, in one record
 *     'J' subject prefix to apply at delivery
 *     'E' end of trailer, length 0
 *
 * The footer names where the trailer starts; the trailer must end exactly
 * at the footer and hold an 'L' that matches, so a file cut anywhere (a
 * torn body, a torn trailer) is corrupt, never a short message.
 * "MWQ1" files (no trailer) are still read: their message runs to the end
 * of the file and their verdict is the envelope's 'V'.
 *
 * Records marked [0.2] are optional: files written before them decode as
 * before (no DSN parameters, warning state not persisted), so the magic
 * stays "MWQ1". A reader that meets a record type it does not know treats
 * the file as corrupt, so an old binary never half-reads a newer file.
 *
 * A file without the END record, with an unknown record type, or with a
 * record running past the end is corrupt and is never delivered.
 */
#ifndef MW_QUEUE_ENVELOPE_H
#define MW_QUEUE_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QUEUE_ID_LEN 16

enum rcpt_status {
	RCPT_PENDING = '-',
	RCPT_DELIVERED = 'D',
	RCPT_FAILED = 'F',     /* permanent failure */
};

/* Envelope flags (the 'X' record): IPC_TXN_F_* from smtpd, and ours. */
#define ENVELOPE_F_8BITMIME 0x1u
#define ENVELOPE_F_SMTPUTF8 0x2u
/* RFC 8689: delivered only over verified TLS to a next hop that offers
 * REQUIRETLS (queue/requiretls.h). A new bit in the existing 'X' record:
 * files written before it read as they did (the bit is clear). */
#define ENVELOPE_F_REQUIRETLS 0x4u
#define ENVELOPE_F_BOUNCE 0x100u        /* a DSN we generated */
#define ENVELOPE_F_DOUBLE_BOUNCE 0x200u /* a failed DSN sent to queue.bounce_notify: never bounced */
#define ENVELOPE_F_OUTBOUND 0x400u      /* judged by the outbound policy (the quarantine index's direction) */

struct envelope_rcpt {
	char *addr;
	char *dsn_notify;      /* "NEVER", "SUCCESS,FAILURE,DELAY" ..., or NULL (not given) */
	char *dsn_orcpt;       /* "rfc822;user@example.org" as given (xtext), or NULL */
	char status;           /* enum rcpt_status */
	off_t status_offset;   /* where the status byte sits in the file */
};

struct envelope {
	char id[QUEUE_ID_LEN + 1];
	uint64_t arrival;
	char *session, *client, *helo, *sender;
	uint32_t flags;
	char *verdict;         /* 'V': the scanner's verdict, or NULL */
	char *dsn_ret, *dsn_envid;  /* RFC 3461 RET and ENVID, or NULL */
	bool warned;                /* the delay warning went out */
	off_t warn_offset;          /* where the 'W' byte sits; 0: none */
	struct envelope_rcpt *rcpts;
	size_t n_rcpts;
	off_t body_offset;     /* first byte of the message in the file */
	off_t body_end;        /* one past its last byte (the trailer or EOF) */
	char *add_headers;     /* trailer 'A', or NULL */
	char *subject_prefix;  /* trailer 'J', or NULL */
	/* trailer 'R', or NULL: header lines a release of the quarantined
	 * message adds (its DKIM signature over the original) */
	char *release_headers;
	bool has_trailer;      /* "MWQ2": the trailer must be there */
};

#define ENVELOPE_FOOTER_SIZE 12   /* "MWT1" + u64 */
#define ENVELOPE_TRAILER_MAX (64u << 10)

void envelope_add_rcpt(struct envelope *e, const char *addr);

/* The envelope of a message the gateway makes itself (a report, an
 * alarm): arrived now, no client session, HELO our hostname, from sender. */
void envelope_init_local(struct envelope *e, const char *hostname, const char *sender);

/* Encode the envelope records (magic to END). Returns a malloc'ed buffer and
 * its length in *len; fills each recipient's status_offset. */
unsigned char *envelope_encode(struct envelope *e, size_t *len);

/* Decode from the start of a file's bytes. Returns false if corrupt; on
 * success e->body_offset is set. Strings are copied; free with envelope_clear. */
bool envelope_decode(const unsigned char *p, size_t len, struct envelope *e);

void envelope_clear(struct envelope *e);

/* The trailer (records and footer) for a message of body_len bytes that
 * starts at e->body_offset, from e->verdict, e->add_headers,
 * e->subject_prefix and e->release_headers. Returns a malloc'ed buffer and its length. */
unsigned char *envelope_encode_trailer(const struct envelope *e, uint64_t body_len, size_t *len);

/* Decode the trailer from the file's tail: p holds the file's bytes from
 * offset tail_offset to the end of the file. Checks the footer, that the
 * trailer ends at it and that its length matches the body's; on success
 * sets e->body_end and the trailer fields. */
bool envelope_decode_trailer(const unsigned char *p, size_t len, uint64_t tail_offset, struct envelope *e);

/* Envelope and (for "MWQ2") trailer of an open spool file, read with
 * pread. False: it does not decode (torn, cut off, empty, not a spool
 * file). Either way e is initialized: envelope_clear(e) is always safe. */
bool envelope_read(int fd, struct envelope *e);

/* Valid queue id: exactly QUEUE_ID_LEN characters of [0-9A-F]. Checked
 * before an id is ever used as a file name. */
bool queue_id_valid(const char *id);
/* A new id: 8 hex digits of the time, 8 random. Uniqueness in the spool is
 * enforced by the spool with O_EXCL and RENAME_NOREPLACE. */
void queue_id_new(char id[QUEUE_ID_LEN + 1]);

#endif
