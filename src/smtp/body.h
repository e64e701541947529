/*
 * The DATA body decoder (RFC 5321 4.1.1.4, 4.5.2): finds the end of data
 * and removes dot-stuffing, byte by byte, across any split of the input.
 *
 * The end of data is only CR LF "." CR LF. A bare LF or a bare CR anywhere
 * in the data is an error (RFC 5321 2.3.8): accepting them is what makes
 * SMTP smuggling work ("\n.\n" taken as the end by one MTA and not by the
 * next). The decoder stops at the first such byte; the session must then
 * refuse the message and cannot find the end of data reliably, so it
 * closes the connection after its reply.
 *
 * A NUL byte is no error of framing: the decoder goes on to the end of
 * data and only notes it (body_has_nul). The session refuses such a
 * message with 554 5.6.0: a next hop that drops NULs would see other line
 * ends than we did (issue 18 item 2, SEC-4). BDAT chunks are not decoded
 * but checked with body_note_nul.
 *
 * Pure logic: no I/O, no allocation. Runs in smtpd.
 */
#ifndef MW_SMTP_BODY_H
#define MW_SMTP_BODY_H

#include <stdbool.h>
#include <stddef.h>

enum body_state {
	BODY_SOL,        /* at the start of a line */
	BODY_TEXT,       /* inside a line */
	BODY_CR,         /* a CR was seen; only LF may follow */
	BODY_DOT,        /* a "." at the start of a line */
	BODY_DOT_CR,     /* ".\r" at the start of a line */
	BODY_END,        /* "\r\n.\r\n" seen: done */
	BODY_BARE_LF,    /* error: LF without CR */
	BODY_BARE_CR,    /* error: CR without LF */
};

struct body_decoder {
	enum body_state state;
	bool nul;        /* a NUL byte was seen in the content */
};

/* Start at the beginning of the data (the DATA command's CRLF counts as the
 * end of the previous line, so a "." first is the end of an empty message). */
void body_decoder_init(struct body_decoder *d);

/*
 * Decode in[0..len). Unstuffed message bytes are written to out, which must
 * hold at least len + 1 bytes (a CR held back from the previous call may be
 * written now). *used is set to the number of input bytes consumed: all of
 * them unless the state became BODY_END (the bytes after the end belong to
 * the next command) or an error. Returns the number of bytes written.
 * Line endings in the output are CRLF; the final CRLF before "." is part
 * of the message.
 */
size_t body_decode(struct body_decoder *d, const char *in, size_t len, char *out, size_t *used);

/* BDAT: note a NUL byte in raw chunk bytes p[0..len). */
void body_note_nul(struct body_decoder *d, const char *p, size_t len);
static inline bool body_has_nul(const struct body_decoder *d) { return d->nul; }

static inline int body_done(const struct body_decoder *d) { return d->state == BODY_END; }
static inline int body_failed(const struct body_decoder *d)
{
	return d->state == BODY_BARE_LF || d->state == BODY_BARE_CR;
}

#endif
