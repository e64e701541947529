/*
 * The strip action (SCAN-8): a message without the parts a check found
 * offending, each replaced by a text/plain notice, the rest of the MIME
 * tree as it was (GMime rewrites the tree; the parts kept are written from
 * their stored content, so their decoded content does not change).
 *
 * Parts are named by their index in the MIME view (content/mime.h): the
 * walk is shared (content/mime_walk.h), so index i here is the view's
 * part i. Runs in the scanner's worker threads and `mailwarden scan`.
 */
#ifndef MW_CONTENT_STRIP_H
#define MW_CONTENT_STRIP_H

#include <stdbool.h>
#include <stddef.h>

/* scan.strip_notice's default (the fields: see strip_notice_fill). */
#define STRIP_NOTICE_DEFAULT \
	"The attachment {name} was removed: {reason}. Ask your administrator to release message {queue_id}."
/* Bytes of one filled notice at most. */
#define STRIP_NOTICE_MAX 4096

struct strip_part {
	size_t part;               /* index in the MIME view */
	const char *notice;        /* the text that takes its place, UTF-8 */
};

/* msg[0..len) with parts[0..n) replaced by their notices, CRLF line
 * ends; malloc'ed, its length in *out_len. NULL when it cannot be done
 * safely: the message does not parse, GMime was not given all of it (a
 * limit: the tail would be lost), or a part is not where the view had it.
 * The caller then holds the whole message instead. */
char *strip_parts(const char *msg, size_t len, const struct strip_part *parts, size_t n, size_t *out_len);

/* The notice: tmpl with {name} (the file's name, or "part N"), {reason}
 * (what the check found) and {queue_id} (the id under which the
 * original is held) filled in; other text, braces included, as written.
 * Controls and bidi overrides in the values become '?' (a name must not
 * reorder the notice), invalid UTF-8 too. Cut at cap - 1 bytes on a
 * character boundary; returns the length. */
size_t strip_notice_fill(const char *tmpl, const char *name, const char *reason, const char *queue_id, char *out,
			 size_t cap);

#endif
