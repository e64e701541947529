/*
 * File names as lenient readers find them (issue 12, SCAN-7): every name
 * a mail client might give an attachment, read from the raw Content-Type
 * and Content-Disposition fields of every entity of the message, whatever
 * the MIME view (content/mime.h) made of the structure.
 *
 * Clients differ on broken parameters: a second `name=` beside an RFC
 * 2231 `name*0=`, continuations out of order or split over two fields,
 * quotes and backslashes in odd places, comments inside a value, a field
 * folded before the '=', encoded words in UTF-16. An attachment policy
 * that judges only the name its own parser settled on lets `.zip` pass as
 * `.png`. So every reading is a candidate, and the policy judges them all:
 * a name is forbidden if any reading of it is.
 *
 * Bounded: at most HIDDEN_NAMES_MAX names of HIDDEN_NAME_MAX - 1 bytes.
 * Thread-safe (GMime for encoded words, after mime_prepare()).
 */
#ifndef MW_CONTENT_HIDDEN_NAMES_H
#define MW_CONTENT_HIDDEN_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define HIDDEN_NAMES_MAX 64
#define HIDDEN_NAME_MAX 256

struct hidden_names {
	char names[HIDDEN_NAMES_MAX][HIDDEN_NAME_MAX];  /* UTF-8 (or bytes as sent), NUL-terminated */
	size_t n;
	bool truncated;     /* more names than the limit */
};

/* Collect the distinct candidate names of msg[0..len) into out. */
void hidden_names_collect(const char *msg, size_t len, struct hidden_names *out);

#endif
