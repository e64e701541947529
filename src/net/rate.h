/*
 * Events per client address in a fixed time window (issue 18 item 4: TLS
 * handshakes, the most expensive thing a client can ask for). A bounded
 * table: an address hashes to a few slots; when they are all taken, the
 * one whose window started longest ago is reused, so a flood of fresh
 * addresses can only make us forget, never grow. One table per process,
 * owned by it. Pure logic, no I/O.
 */
#ifndef MW_NET_RATE_H
#define MW_NET_RATE_H

#include <stdbool.h>
#include <time.h>

#define RATE_SLOTS 4096

struct rate_table;

struct rate_table *rate_new(void);
void rate_free(struct rate_table *t);

/* Count one event of client (its address as text) at now (seconds on a
 * monotonic clock). False if that makes more than limit events in the
 * client's current window of window seconds; limit 0 means no limit. */
bool rate_allow(struct rate_table *t, const char *client, time_t now, unsigned limit, unsigned window);

#endif
