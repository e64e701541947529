/*
 * The address rewriting table (TOP-5): a plain-text file that maps user
 * addresses to one uniform form. Applied to recipients where the envelope
 * enters the queue (queue.c) and to envelope senders on the way out
 * (deliver.c). Pure functions, no I/O except rewrite_load().
 *
 * File format, one rule per line; '#' starts a comment, blank lines are
 * ignored:
 *
 *   j.doe@example.org      ->  john.doe@example.org   # one address
 *   @old.example           ->  @example.org           # a whole domain
 *
 * The arrow may be left out (whitespace separates the two sides). An
 * address rule wins over a domain rule. A result is looked up again, up to
 * REWRITE_DEPTH_MAX times, so chains work; a rule set that loops (a -> b,
 * b -> a) is refused when the file is loaded, and rewrite_apply() gives up
 * (returns the input unchanged) should a loop ever be met. Lookups ignore
 * ASCII case in the domain; local parts compare exactly (RFC 5321 2.4).
 */
#ifndef MW_POLICY_REWRITE_H
#define MW_POLICY_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#define REWRITE_DEPTH_MAX 10
#define REWRITE_LINE_MAX 1024
#define REWRITE_RULES_MAX 100000

struct rewrite_rule {
	char *from;     /* "local@domain" (domain lower case) or "@domain" */
	char *to;       /* same shape; "@domain" only when from is "@domain" */
	unsigned line;
};

struct rewrite {
	struct rewrite_rule *rules;
	size_t n;
};

/* Parse the text of a table (len bytes, any bytes). Every problem is
 * reported through err(arg, line, problem); returns NULL if there was any. */
struct rewrite *rewrite_parse(const char *text, size_t len,
			      void (*err)(void *arg, unsigned line, const char *problem), void *arg);

/* The rewritten form of addr ("" stays ""), malloc'ed; NULL if no rule
 * applies or a loop was met. */
char *rewrite_apply(const struct rewrite *rw, const char *addr);

void rewrite_free(struct rewrite *rw);

#endif
