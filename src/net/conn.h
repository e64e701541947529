/*
 * A network connection as session code sees it: a handful of events and
 * bounded reads. Hides libevent (and, later, OpenSSL) from the SMTP code.
 *
 * Input is buffered up to CONN_INPUT_MAX bytes; past that the connection
 * stops reading from the socket until the session consumes some, so a
 * client can never make us buffer without bound. Lines are bounded before
 * the session sees them.
 */
#ifndef MW_NET_CONN_H
#define MW_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>

#define CONN_INPUT_MAX (256u * 1024)

struct event_base;
struct conn;

struct conn_handlers {
	void (*on_input)(void *arg);                 /* new input, or resumed with input pending */
	void (*on_drained)(void *arg);               /* all output written */
	void (*on_timeout)(void *arg);               /* no input for the read timeout */
	void (*on_closed)(void *arg, const char *why); /* peer closed or I/O error */
};

enum conn_line {
	CONN_LINE_OK,        /* a line without its line ending */
	CONN_LINE_NONE,      /* no complete line yet */
	CONN_LINE_TOO_LONG,  /* longer than cap: the rest up to the next LF is discarded */
};

struct conn *conn_new(struct event_base *base, int fd, const struct conn_handlers *h, void *arg);
void conn_free(struct conn *c);

void conn_write(struct conn *c, const void *p, size_t len);
size_t conn_output_pending(const struct conn *c);

/* Read one line ending in LF (an optional CR before it is removed) into
 * buf (cap bytes, NUL-terminated; the line may contain NUL bytes, *len
 * tells the real length). A line longer than cap - 1 is TOO_LONG. */
enum conn_line conn_read_line(struct conn *c, char *buf, size_t cap, size_t *len);

/* Raw input: copy up to cap bytes without consuming them, then consume n. */
size_t conn_peek(struct conn *c, void *buf, size_t cap);
void conn_consume(struct conn *c, size_t n);
size_t conn_input_pending(const struct conn *c);

/* Stop delivering on_input until resume (the input buffer stays bounded
 * by CONN_INPUT_MAX). Resume delivers one on_input soon, input or not. */
void conn_pause(struct conn *c);
void conn_resume(struct conn *c);

void conn_set_timeout(struct conn *c, unsigned seconds);

#endif
