/*
 * Counting trace fields for loop detection; see hops.h.
 */
#include "smtp/hops.h"

#include <strings.h>

static bool starts_with(const struct hops *h, const char *name, size_t len)
{
	return h->col >= len && strncasecmp(h->start, name, len) == 0;
}

/* The line held in h->start ended: a trace field counts, an empty line
 * ends the header block (continuation lines start with a space and so
 * never match a field name). */
static void end_of_line(struct hops *h)
{
	if (h->col == 0 || (h->col == 1 && h->start[0] == '\r')) {
		h->body = true;
		return;
	}
	if (starts_with(h, "received:", 9) || starts_with(h, "delivered-to:", 13))
		h->count++;
}

void hops_feed(struct hops *h, const char *p, size_t len)
{
	for (size_t i = 0; i < len && !h->body; i++) {
		if (p[i] == '\n') {
			end_of_line(h);
			h->col = 0;
			continue;
		}
		if (h->col < HOPS_PREFIX)
			h->start[h->col++] = p[i];
	}
}
