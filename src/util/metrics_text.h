/*
 * The counter block (util/metrics.h) as Prometheus text exposition,
 * format 0.0.4: one HELP and one TYPE line per family, then its samples.
 * The names, help texts and labels are this file's table; the block
 * holds only numbers. Pure apart from the atomic loads of the cells: no
 * allocation, no I/O; safe to call from any thread.
 */
#ifndef MW_UTIL_METRICS_TEXT_H
#define MW_UTIL_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util/metrics.h"

#define METRICS_TEXT_MAX (64 * 1024)

/* Render b into out (size bytes). listeners[i] names listener index i
 * (n of them, n <= METRICS_LISTENERS; names are the configuration's,
 * checked there: [A-Za-z0-9_-]); now is wall seconds, for the oldest
 * message's age. Returns the length written, or 0 if it did not fit. */
size_t metrics_text(const struct metrics_block *b, const char *const *listeners, size_t n, uint64_t now,
		    char *out, size_t size);

#endif
