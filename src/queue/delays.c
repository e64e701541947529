#include "queue/delays.h"

#include "util/monotime.h"

struct delivery_times delivery_times_start(void)
{
	return (struct delivery_times){ walltime_ms(), monotime_ms(), 0 };
}

static int64_t not_negative(int64_t ms)
{
	return ms > 0 ? ms : 0;
}

struct delivery_delays delivery_delays_of(const struct delivery_times *t, uint64_t arrival, int64_t end_mono_ms)
{
	struct delivery_delays d;
	d.queue = not_negative(t->start_wall_ms - (int64_t)arrival * 1000);  /* a clock stepped back: 0 */
	/* A session never ready for MAIL spent the whole attempt connecting. */
	int64_t ready = t->ready_mono_ms ? t->ready_mono_ms : end_mono_ms;
	d.conn = not_negative(ready - t->start_mono_ms);
	d.xmit = not_negative(end_mono_ms - ready);
	d.total = d.queue + d.conn + d.xmit;
	return d;
}
