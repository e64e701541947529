/*
 * The delay figures of one delivery attempt (issue 15), in the spirit of
 * Postfix's delays=a/b/c/d, for the attempt's log line (docs/logging.md):
 *   delay_queue  from the message's arrival to the start of this attempt
 *                (waiting in the queue, earlier attempts and retry waits);
 *   delay_conn   from the start to a session ready for MAIL: address
 *                resolution, a free connection slot, connect, greeting,
 *                EHLO and STARTTLS (nearly 0 on a reused connection; 0
 *                for a maildir, which has no connection);
 *   delay_xmit   from MAIL to the last reply (for a maildir: the writing);
 *   delay        their sum: arrival to outcome.
 * The arrival is persisted in whole seconds (the spool's 'T' record), so
 * delay_queue, and delay with it, may read up to 1 s high; the other two
 * are measured on the monotonic clock in milliseconds.
 */
#ifndef MW_QUEUE_DELAYS_H
#define MW_QUEUE_DELAYS_H

#include <stdint.h>

/* When an attempt (one delivery job) started, and when its session was
 * ready for MAIL (monotonic ms, 0: never: the attempt failed before). */
struct delivery_times {
	int64_t start_wall_ms, start_mono_ms;
	int64_t ready_mono_ms;
};

/* In milliseconds, never negative; total = queue + conn + xmit. */
struct delivery_delays {
	int64_t queue, conn, xmit, total;
};

/* Now, as the start of an attempt (not yet ready). */
struct delivery_times delivery_times_start(void);

/* The figures of an attempt that ended at end_mono_ms, for a message that
 * arrived at `arrival` (wall-clock seconds). Pure: unit-tested. */
struct delivery_delays delivery_delays_of(const struct delivery_times *t, uint64_t arrival, int64_t end_mono_ms);

#endif
