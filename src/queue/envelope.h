/*
 * The envelope of a queued message and its on-disk form: typed,
 * length-carrying records after a magic, ending in an END record, then the
 * raw message (Received header first, CRLF line endings, not dot-stuffed).
 *
 *   "MWQ1"  then records:  u8 type | u32 length (big endian) | data
 *     'T' arrival time, u64 seconds     'S' smtpd session id
 *     'C' client address                'H' HELO/EHLO name
 *     'X' flags, u32 (IPC_TXN_F_*)      'F' envelope sender ("" = null sender)
 *     'R' recipient: u8 status, then the address (the status byte is
 *         rewritten in place when the recipient is done)
 *     'V' scanner verdict "action score symbols" (optional)
 *     'E' end of envelope, length 0
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

struct envelope_rcpt {
	char *addr;
	char status;           /* enum rcpt_status */
	off_t status_offset;   /* where the status byte sits in the file */
};

struct envelope {
	char id[QUEUE_ID_LEN + 1];
	uint64_t arrival;
	char *session, *client, *helo, *sender;
	uint32_t flags;
	char *verdict;         /* 'V': the scanner's verdict, or NULL */
	struct envelope_rcpt *rcpts;
	size_t n_rcpts;
	off_t body_offset;     /* first byte of the message in the file */
};

void envelope_add_rcpt(struct envelope *e, const char *addr);

/* Encode the envelope records (magic to END). Returns a malloc'ed buffer and
 * its length in *len; fills each recipient's status_offset. */
unsigned char *envelope_encode(struct envelope *e, size_t *len);

/* Decode from the start of a file's bytes. Returns false if corrupt; on
 * success e->body_offset is set. Strings are copied; free with envelope_clear. */
bool envelope_decode(const unsigned char *p, size_t len, struct envelope *e);

void envelope_clear(struct envelope *e);

/* Valid queue id: exactly QUEUE_ID_LEN characters of [0-9A-F]. Checked
 * before an id is ever used as a file name. */
bool queue_id_valid(const char *id);
/* A new id: 8 hex digits of the time, 8 random. Uniqueness in the spool is
 * enforced by the spool with O_EXCL and RENAME_NOREPLACE. */
void queue_id_new(char id[QUEUE_ID_LEN + 1]);

#endif
