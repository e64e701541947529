/*
 * What the queue process counts for the emergency triggers (SCAN-11):
 * messages judged per second over the last minute, and judged and with a
 * malware finding per minute over the last hour, in two rings; and the
 * SMTP sessions each smtpd reports (IPC_SESSIONS). Counting is a few
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
	struct { int64_t min; unsigned judged, malware; } per_min[TRIGGER_MINUTES_MAX];
};

/* One message judged at monotonic second now; malware: an engine found some. */
void load_gauge_judged(struct load_gauge *g, int64_t now, bool malware);

/* The counts as of second now into r (received_per_minute, judged[],
 * malware[]); the other fields of r are left as they are. */
void load_gauge_read(const struct load_gauge *g, int64_t now, struct trigger_reading *r);

#endif
