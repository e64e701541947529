/*
 * How often each scan symbol hit, for the metrics' top symbols (issue 15:
 * "scan verdicts and symbols (top N)"). The queue counts the symbols of
 * every verdict; the metrics endpoint shows the most frequent ones.
 *
 * Bounded whatever the traffic: SYMBOL_COUNTS_MAX distinct names are kept
 * (a fixed open-addressing table, FNV-1a); hits of names beyond that are
 * counted under SYMBOL_COUNTS_OTHER, so a flood of made-up names (every
 * rule name of a large set, say) can neither grow memory nor push the
 * label set of the metrics past a fixed size. Pure data, no lock: the
 * caller (queue/metrics_http.c) guards it.
 */
#ifndef MW_QUEUE_SYMBOL_COUNTS_H
#define MW_QUEUE_SYMBOL_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#define SYMBOL_COUNTS_MAX 512
#define SYMBOL_COUNTS_OTHER "other"

struct symbol_count {
	char name[32];      /* empty: a free slot */
	uint64_t hits;
};

struct symbol_counts {
	struct symbol_count slot[SYMBOL_COUNTS_MAX * 2];  /* at most half full */
	size_t used;
	uint64_t other;     /* hits of names that found no room */
};

/* One hit of name (cut to 31 bytes; a byte other than a letter, digit,
 * '_', '-' or '.' becomes '_', so the name is a label value as it is). */
void symbol_counts_add(struct symbol_counts *s, const char *name);

/* The n most frequent names, most frequent first (ties by name), into
 * out; the count of names written. */
size_t symbol_counts_top(const struct symbol_counts *s, struct symbol_count *out, size_t n);

#endif
