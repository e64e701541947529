/*
 * The message being received, on its way into the spool descriptor:
 * the Received header first (RFC 5321 4.4), then the body, decoded from
 * DATA (dot-unstuffing, end detection, bare CR/LF refusal) or copied from
 * BDAT chunks. Writes are buffered; the size limit is enforced here.
 * Runs in smtpd: it only ever writes to the descriptor it was handed.
 */
#ifndef MW_SMTP_MESSAGE_H
#define MW_SMTP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/body.h"

enum message_error {
	MESSAGE_OK,
	MESSAGE_TOO_BIG,     /* past the size limit: the rest is read and dropped */
	MESSAGE_BARE_EOL,    /* bare CR or LF in the data (RFC 5321 2.3.8) */
	MESSAGE_IO,          /* the spool write failed */
};

struct message {
	int fd;                  /* spool descriptor, -1 before the queue opened it */
	char queue_id[17];
	uint64_t size;           /* bytes accepted into the spool so far, header included */
	uint64_t limit;          /* largest message accepted */
	enum message_error error;
	struct body_decoder body;
	bool chunk_cr;           /* BDAT: the last byte was a CR */
	char *buf;               /* write buffer, allocated while a message is open */
	size_t buf_len;
	/* Subject rewrite (scanner "tag", SCAN-8): the prefix, and the header
	 * line being collected while still in the header section. */
	const char *subject_prefix;
	char *hdr_line;
	size_t hdr_len;
	bool headers_done;
};

void message_init(struct message *m, uint64_t limit);
/* The queue handed over the descriptor: allocate the buffer, write the header. */
void message_open(struct message *m, int fd, const char *queue_id, const char *received_header);
/* Put prefix before the Subject of the message's header section (the
 * prefix must outlive the message). Call before the body arrives. */
void message_set_subject_prefix(struct message *m, const char *prefix);
/* DATA: decode in[0..len). Returns bytes consumed (all, unless the end of
 * data or an error was found). body_done()/body_failed() on m->body tell. */
size_t message_data(struct message *m, const char *in, size_t len);
/* BDAT: append raw chunk bytes; a bare CR/LF is noted for the end. */
void message_chunk(struct message *m, const char *in, size_t len);
/* Flush the buffer and close the descriptor. Returns the error, if any. */
enum message_error message_finish(struct message *m);
/* Drop everything (the queue removes its copy on ABORT). */
void message_discard(struct message *m);

#endif
