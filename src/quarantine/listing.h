/*
 * `mailwarden quarantine list` (issue 11, "a quarantine people can work
 * with"): what is held, oldest first, with arrival, client, envelope,
 * Subject (decoded), score and verdict; filtered by sender, recipient,
 * age and score; as text or --json. Reads spool/quarantine/ directly:
 * each file's envelope and trailer, and the start of its header section
 * for the Subject.
 */
#ifndef MW_QUARANTINE_LISTING_H
#define MW_QUARANTINE_LISTING_H

#include <stdbool.h>
#include <stdint.h>

struct listing_filter {
	const char *from;        /* substring of the sender, any case; NULL: any */
	const char *to;          /* substring of a recipient; NULL: any */
	uint64_t since;          /* arrived at or after (Unix time); 0: any */
	bool has_min_score;
	int min_score;           /* hundredths (verdict/points.h) */
	bool json;
};

/* The list of dir (an open spool/quarantine/). Returns the exit status. */
int listing_print(int dir, const struct listing_filter *f);

/* Options after "list": [--json] [--from S] [--to S] [--since DURATION]
 * [--min-score N]; false on a bad one (message on stderr). */
bool listing_options(int argc, char **argv, struct listing_filter *f);

#endif
