/*
 * `mailwarden quarantine list` (issue 11, "a quarantine people can work
 * with"): what is held, oldest first, with arrival, direction, client,
 * envelope, Subject (decoded), score and verdict; filtered by sender,
 * recipient, age and score; as text or --json. The command line parses
 * the options and sends them as one control line (listing_encode); the
 * queue decodes it (listing_decode) and writes the answer from the index
 * (listing_write), so listing costs one indexed query, not a read of
 * every held file.
 */
#ifndef MW_QUARANTINE_LISTING_H
#define MW_QUARANTINE_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "state/quarantine_index.h"

/* Command line: options after "list": [--json] [--from S] [--to S]
 * [--since DURATION] [--min-score N]; false on a bad one (message on
 * stderr). */
bool listing_options(int argc, char **argv, struct qindex_filter *f, bool *json);

/* A string that travels as one word of a control line (a filter, an
 * address, a --by name): printable ASCII without spaces, as addresses
 * and login names are. */
bool listing_word_ok(const char *s);

/* The control line for f: "quarantine list [json] [from=S] ...". False
 * if it does not fit into cap. */
bool listing_encode(const struct qindex_filter *f, bool json, char *line, size_t cap);

/* Queue side: the words after "list" back into f; false on an unknown
 * or malformed word. The strings point into words. */
bool listing_decode(char **words, size_t n, struct qindex_filter *f, bool *json);

/* The list itself, from the index, to out. False on a database error. */
bool listing_write(struct qindex *x, const struct qindex_filter *f, bool json, FILE *out);

#endif
