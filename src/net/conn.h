/*
 * A network connection as session code sees it: a handful of events and
 * bounded reads. Hides libevent and OpenSSL from the SMTP code.
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
struct ssl_ctx_st;

struct conn_handlers {
	void (*on_input)(void *arg);                 /* new input, or resumed with input pending */
	void (*on_drained)(void *arg);               /* all output written */
	void (*on_timeout)(void *arg);               /* no input for the read timeout */
	void (*on_closed)(void *arg, const char *why); /* peer closed or I/O error */
	void (*on_tls_ready)(void *arg);             /* the TLS handshake is done */
};

enum conn_line {
	CONN_LINE_OK,        /* a line without its line ending */
	CONN_LINE_NONE,      /* no complete line yet */
	CONN_LINE_TOO_LONG,  /* longer than cap: the rest up to the next LF is discarded */
	CONN_LINE_RUNAWAY,   /* still no LF CONN_DISCARD_MAX bytes into a discarded line */
};

struct conn *conn_new(struct event_base *base, int fd, const struct conn_handlers *h, void *arg);
void conn_free(struct conn *c);

void conn_write(struct conn *c, const void *p, size_t len);
size_t conn_output_pending(const struct conn *c);

/* Read one line ending in LF (an optional CR before it is removed) into
 * buf (cap bytes, NUL-terminated; the line may contain NUL bytes, *len
 * tells the real length). A line longer than cap - 1 is TOO_LONG, and
 * RUNAWAY once CONN_DISCARD_MAX bytes of it were dropped without an LF. */
/* An overlong line is discarded up to its LF; a "line" that runs on for
 * this long is no command at all (a flood without line ends). */
#define CONN_DISCARD_MAX (256u * 1024)

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

/*
 * Start TLS as the server (RFC 3207 after "220 Ready", or RFC 8314 at once).
 * Every input byte buffered so far is discarded first: commands a client
 * pipelined behind STARTTLS were sent in clear and must not be executed in
 * the TLS session (CVE-2011-0411). Output already queued (the 220) still
 * goes out in clear, before the handshake. on_tls_ready follows, or
 * on_closed if the handshake fails. All callbacks of a TLS connection run
 * from the event loop, never from inside conn_write(), so session code can
 * never be freed under its own feet. False if TLS could not be set up.
 */
bool conn_start_tls(struct conn *c, struct ssl_ctx_st *ctx);
bool conn_is_tls(const struct conn *c);
/* Version ("TLSv1.3"), cipher and its bits of an established TLS connection. */
void conn_tls_info(const struct conn *c, const char **version, const char **cipher, int *bits);

/* Closing: may the connection be freed now? On TLS the first call sends a
 * close_notify and returns false; on_drained follows when it is written. */
bool conn_finish(struct conn *c);

/* Call fn(arg) once after seconds (a new call replaces a pending one). */
void conn_after(struct conn *c, unsigned seconds, void (*fn)(void *arg));

#endif
