/*
 * 8-bit MIME to 7-bit for a next hop without 8BITMIME (issue 16 item 11).
 * RFC 6152 section 3 forbids sending 8-bit data to such a server; instead
 * of bouncing, the message is converted as RFC 1652 practice and Postfix
 * do: every MIME part whose content holds 8-bit bytes is re-encoded,
 * quoted-printable for text parts, base64 for the others, and its
 * Content-Transfer-Encoding header says so. Parsing and encoding are
 * GMime 3's. The spool file is never changed: the outbound client sends
 * the result instead of the spool's bytes.
 *
 * Runs in the queue process, on its event loop (the message is converted
 * in memory: a 25 MB message costs a few tens of milliseconds).
 */
#ifndef MW_SMTP_DOWNGRADE_H
#define MW_SMTP_DOWNGRADE_H

#include <stddef.h>
#include <sys/types.h>

enum downgrade_status {
	DOWNGRADE_OK,          /* *out holds the 7-bit message */
	DOWNGRADE_IMPOSSIBLE,  /* 8-bit bytes outside MIME content (headers): bounce */
	DOWNGRADE_ERROR,       /* the message could not be read or parsed: try later */
};

/* msg: the whole message, CRLF lines. On DOWNGRADE_OK *out (malloc'd,
 * the caller frees it) holds the converted message with CRLF lines, every
 * byte 7-bit, not dot-stuffed. Otherwise why says what went wrong. */
enum downgrade_status downgrade_message(const char *msg, size_t len, char **out, size_t *out_len, char *why,
					size_t why_len);

/* The same for a message in a spool file: prefix (headers the queue adds)
 * followed by the bytes [from, end) of fd, read with pread. */
enum downgrade_status downgrade_spool(int fd, off_t from, off_t end, const char *prefix, size_t prefix_len,
				      char **out, size_t *out_len, char *why, size_t why_len);

#endif
