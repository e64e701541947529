/*
 * The salvage view (issue 12, SCAN-6): what a lenient reader could take
 * out of a message that the MIME view (content/mime.h) does not show.
 *
 * Mail clients decode broken MIME in ways of their own: a base64 body
 * with stray '=' or junk lines, quoted-printable with invalid escapes, a
 * boundary given twice, uuencoded or yEnc data in a text part. A gateway
 * that reads such a message strictly sees text where the client shows an
 * attachment; that is how malware is slipped past scanners (the "MIME is
 * broken" evasion set). So the malware engines get, besides the parts of
 * the MIME view, every encoded block found anywhere in the raw body,
 * decoded the ways a lenient reader might decode it. The view's structure
 * does not matter: blocks are found line by line.
 *
 * A block that decodes to what the MIME view already holds is left out,
 * so well-formed mail costs a decoding pass and no engine time. BinHex is
 * recognised but not decoded, and encoded data that lenient readers
 * decode in different ways is marked ambiguous: both are reported so the
 * message can be held as unscannable (fail closed) instead of passing
 * unseen.
 *
 * Bounded: at most SALVAGE_BLOBS_MAX blobs and SALVAGE_BYTES_MAX decoded
 * bytes per message (beyond them: truncated). Thread-safe.
 */
#ifndef MW_CONTENT_SALVAGE_H
#define MW_CONTENT_SALVAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "content/mime.h"

#define SALVAGE_BLOBS_MAX 64
#define SALVAGE_BYTES_MAX ((size_t)32 << 20)
/* Decoded blobs shorter than this are not kept (nothing to scan in them;
 * the shortest EICAR carrier, the 68-byte string, is longer). */
#define SALVAGE_BLOB_MIN 16

struct salvage_blob {
	char *data;
	size_t len;
	char how[64];       /* "base64 run at line 12, '=' ignored": for logs */
};

struct salvage {
	struct salvage_blob *blobs;
	size_t n;
	size_t bytes;       /* decoded bytes kept */
	bool binhex;        /* BinHex 4.0 data: not decoded, so not scanned */
	bool truncated;     /* a limit stopped the salvage */
	/* Encoded data the view does not hold that readers decode in ways
	 * of their own (base64 past a mid-stream '=', quoted-printable with
	 * invalid escapes): the blobs are guesses, not what a client shows. */
	bool ambiguous;
};

/* Collect into out the blobs of msg[0..len) that m does not already
 * hold. m: the MIME view of the same message. */
void salvage_collect(const char *msg, size_t len, const struct mime_message *m, struct salvage *out);
void salvage_free(struct salvage *s);

#endif
