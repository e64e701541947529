/*
 * What the queue process counts for the emergency triggers (SCAN-11):
 * messages received per second over the last minute, and received and
 * with a malware finding per TRIGGER_SLICE seconds over the last hour,
 * in two rings.
 * Counting is a few
 * additions on the event loop; nothing here does I/O or reads a clock:
 * the caller passes the monotonic second.
 */
#ifndef MW_QUEUE_LOAD_GAUGE_H
#define MW_QUEUE_LOAD_GAUGE_H

#include <stdbool.h>
#include <stdint.h>

#include "queue/trigger.h"

struct load_gauge {
	struct { int64_t sec; unsigned n; } per_sec[60];
	struct { int64_t slice; unsigned judged, malware; } per_slice[TRIGGER_SLICES];
};

/* One message received whole (END-OF-MESSAGE) at monotonic second now. */
void load_gauge_received(struct load_gauge *g, int64_t now);

/* A malware engine found something in a message received at second now. */
void load_gauge_malware(struct load_gauge *g, int64_t now);

/* The counts as of second now into r (received_per_minute, judged[],
 * malware[]); the other fields of r are left as they are. */
void load_gauge_read(const struct load_gauge *g, int64_t now, struct trigger_reading *r);

#endif
