/*
 * The message being received, on its way into the queue's pipe: the
 * Received header first (RFC 5321 4.4), then the body, decoded from DATA
 * (dot-unstuffing, end detection, bare CR/LF refusal) or copied from BDAT
 * chunks. The size limit is enforced here. Runs in smtpd: all it holds of
 * the message is the write end of a pipe (SEC-1); the queue writes the
 * spool file and adds every verdict header itself.
 */
#ifndef MW_SMTP_MESSAGE_H
#define MW_SMTP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/body.h"
#include "smtp/field_size.h"
#include "smtp/hops.h"

struct event_base;
struct pipeout;

enum message_error {
	MESSAGE_OK,
	MESSAGE_TOO_BIG,     /* past the size limit: the rest is read and dropped */
	MESSAGE_BARE_EOL,    /* bare CR or LF in the data (RFC 5321 2.3.8) */
	MESSAGE_IO,          /* the pipe to the queue broke */
	MESSAGE_LOOP,        /* more trace fields than HOPS_MAX: a mail loop */
	MESSAGE_FIELD_TOO_LONG, /* a header field over FIELD_SIZE_MAX (attack case 137) */
};

/* Above this many bytes not yet taken by the queue, the session stops
 * reading from its client until the pipe drains. */
#define MESSAGE_BACKLOG_MAX (256u * 1024)

struct message {
	struct pipeout *out;     /* to the queue; NULL before the queue opened it */
	char queue_id[17];
	uint64_t size;           /* bytes accepted so far, header included */
	uint64_t limit;          /* largest message accepted */
	enum message_error error;
	struct body_decoder body;
	bool chunk_cr;           /* BDAT: the last byte was a CR */
	struct hops hops;        /* trace fields of the header block, ours included */
	struct field_size fields;/* the length of each header field */
};

void message_init(struct message *m, uint64_t limit);
/* The queue handed over the pipe (its write end, owned from now on):
 * write the Received header first. */
void message_open(struct message *m, struct event_base *base, int pipe_fd, const char *queue_id,
		  const char *received_header);
/* DATA: decode in[0..len). Returns bytes consumed (all, unless the end of
 * data or an error was found). body_done()/body_failed() on m->body tell. */
size_t message_data(struct message *m, const char *in, size_t len);
/* BDAT: append raw chunk bytes; a bare CR/LF is noted for the end. */
void message_chunk(struct message *m, const char *in, size_t len);
/* True while the queue has not taken enough of what was written. */
bool message_backlogged(const struct message *m);
/* The last checks at the end of the message. Returns the error, if any;
 * MESSAGE_OK means the pipe may be drained and END-OF-MESSAGE sent. */
enum message_error message_finish(struct message *m);
/* Close the pipe and drop what was not written. */
void message_discard(struct message *m);
/* The queue stopped taking the message: close the pipe and fail it
 * (MESSAGE_IO); the rest of the body is still read, and dropped. */
void message_fail(struct message *m);

#endif
