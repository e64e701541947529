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

/* What the cells are indexed by, named: listeners[i] names listener
 * index i (names are the configuration's, checked there: [A-Za-z0-9_-]);
 * checks[i] names content check index i (content/checks.c), smtp_checks[i]
 * smtpd's check index i (scan/checks.c). */
struct metrics_names {
	const char *const *listeners;
	size_t n_listeners;           /* at most METRICS_LISTENERS are shown */
	const char *const *checks;
	size_t n_checks;              /* at most METRICS_CHECKS are shown */
	const char *const *smtp_checks;
	size_t n_smtp_checks;         /* at most METRICS_SMTP_CHECKS are shown */
};

/* Render b into out (size bytes); now is wall seconds, for the oldest
 * message's age. Returns the length written, or 0 if it did not fit. */
size_t metrics_text(const struct metrics_block *b, const struct metrics_names *names, uint64_t now, char *out,
		    size_t size);

#endif
