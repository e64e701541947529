/*
 * Checked allocation: out of memory is fatal (the process logs and exits,
 * and the master restarts it), so callers never handle NULL. Sizes are
 * multiplied with overflow checks.
 */
#ifndef MW_UTIL_ALLOC_H
#define MW_UTIL_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
