/*
 * A cheaper superset of a long regex for Hyperscan's prefilter (issue
 * 11, speed): a proper prefix of its top-level sequence of items. Used by
 * rules_fast.c for rules Hyperscan cannot take exactly because they are
 * too large. Only for content/rules*.c.
 */
#ifndef MW_CONTENT_RULES_PREFIX_H
#define MW_CONTENT_RULES_PREFIX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The longest proper prefix of pattern's top-level sequence (a pattern
 * that is one group repeated at least once counts as the sequence inside
 * it) that is at most max_len bytes and that usable(prefix, arg) accepts;
 * malloc'd, or NULL if there is none or pattern is one this reader is
 * unsure of (a top-level alternation, \Q, comments, {,n}).
 */
char *rules_prefix_superset(const char *pattern, size_t max_len, bool (*usable)(const char *prefix, void *arg),
			    void *arg);

#endif
