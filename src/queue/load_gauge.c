/*
 * Counting judged messages for the emergency triggers: see load_gauge.h.
 * A slot of a ring holds the second (or slice) it counts; a slot whose
 * time is not the one asked for is stale and counts as zero, so a quiet
 * stretch needs no clearing pass.
 */
#include "queue/load_gauge.h"

#include <string.h>

/* The slot of now's slice, made fresh if it held an older slice. */
static size_t slice_slot(struct load_gauge *g, int64_t now)
{
	int64_t slice = now / TRIGGER_SLICE;
	size_t m = (size_t)(slice % TRIGGER_SLICES);
	if (g->per_slice[m].slice != slice)
		g->per_slice[m].slice = slice, g->per_slice[m].judged = g->per_slice[m].malware = 0;
	return m;
}

void load_gauge_received(struct load_gauge *g, int64_t now)
{
	size_t s = (size_t)(now % 60);
	if (g->per_sec[s].sec != now)
		g->per_sec[s].sec = now, g->per_sec[s].n = 0;
	g->per_sec[s].n++;
	g->per_slice[slice_slot(g, now)].judged++;
}

void load_gauge_malware(struct load_gauge *g, int64_t now)
{
	g->per_slice[slice_slot(g, now)].malware++;
}

void load_gauge_read(const struct load_gauge *g, int64_t now, struct trigger_reading *r)
{
	int64_t slice = now / TRIGGER_SLICE;
	r->received_per_minute = 0;
	for (size_t i = 0; i < 60; i++)
		if (g->per_sec[i].sec > now - 60 && g->per_sec[i].sec <= now)
			r->received_per_minute += g->per_sec[i].n;
	for (size_t i = 0; i < TRIGGER_SLICES; i++) {
		int64_t want = slice - (int64_t)i;
		const size_t m = (size_t)(((want % TRIGGER_SLICES) + TRIGGER_SLICES) % TRIGGER_SLICES);
		bool fresh = g->per_slice[m].slice == want;
		r->judged[i] = fresh ? g->per_slice[m].judged : 0;
		r->malware[i] = fresh ? g->per_slice[m].malware : 0;
	}
}
