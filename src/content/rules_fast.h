/*
 * The rule set's Hyperscan databases (issue 11, fast matching): the
 * regexes of one kind, and for header rules of one field and mode, in one
 * database, matched in one pass over each piece of the message instead of
 * one PCRE2 call per rule. Built by rules_compile_fast() (rules.h), used
 * by rules_match.c. Only for content/rules*.c.
 *
 * A pattern goes into a database in one of two ways: exactly (its hit is
 * the rule's answer), or in Hyperscan's prefilter mode (a hit may be false:
 * PCRE2 confirms it on that piece). A pattern Hyperscan cannot take even
 * as a prefilter, or that can match the empty string, runs in PCRE2 alone.
 * Rules that count (tflags multiple) are counted by PCRE2 on the pieces
 * where Hyperscan found them, so counts stay PCRE2's.
 */
#ifndef MW_CONTENT_RULES_FAST_H
#define MW_CONTENT_RULES_FAST_H

#include <hs/hs.h>

#include "content/rules_impl.h"

struct fast_db {
	enum rule_kind kind;
	size_t like;           /* header databases: a rule with the field and mode all of its rules match */
	bool all_headers;      /* header ALL: the raw header section */
	hs_database_t *db;
	size_t *rule;          /* pattern id -> rule index */
	bool *confirm;         /* pattern id -> PCRE2 confirms the hit (prefilter) or counts (multiple) */
	size_t n;
};

/* Each rule that runs in PCRE2 alone or in a database; and how many of the
 * databases came from the cache. */
struct fast_counts {
	size_t exact, prefilter, pcre, databases, cached;
};

struct rules_fast;

/* The databases, n of them. */
const struct fast_db *rules_fast_dbs(const struct rules_fast *f, size_t *n);
/* Is rule i matched through a database (else rules_match runs it alone)? */
bool rules_fast_has(const struct rules_fast *f, size_t i);

/* A scratch space for one match at a time: taken from the set's pool (or
 * made) and given back; thread-safe. NULL if Hyperscan cannot make one
 * (the caller then runs PCRE2 alone). */
hs_scratch_t *rules_fast_scratch_take(struct rules_fast *f);
void rules_fast_scratch_put(struct rules_fast *f, hs_scratch_t *s);

/* The pattern ids of d matching s[0..len), each once, into ids (room for
 * d->n); their count, or SIZE_MAX if the scan failed (the caller then
 * treats every pattern as one to confirm). seen: d->n zero bytes, zero
 * again on return. */
size_t rules_fast_scan(const struct fast_db *d, hs_scratch_t *scratch, const char *s, size_t len, unsigned *ids,
		       unsigned char *seen);

#endif
