/*
 * Failed AUTH attempts per client address (brute-force brake): after
 * max_failures failures a client is cut off for the lock-out time. One
 * table per smtpd process, owned by it (with several smtpd processes a
 * client may try a few more times, once per process). Bounded: when full,
 * the entry seen longest ago is reused. Runs in smtpd.
 */
#ifndef MW_AUTH_PENALTY_H
#define MW_AUTH_PENALTY_H

#include <stdbool.h>
#include <time.h>

#define PENALTY_ENTRIES 4096

struct penalty_table;

struct penalty_table *penalty_new(void);
void penalty_free(struct penalty_table *t);

/* Is client (its address as text) cut off at time now? */
bool penalty_blocked(const struct penalty_table *t, const char *client, time_t now);
/* Count a failure; true if the client is now cut off. */
bool penalty_fail(struct penalty_table *t, const char *client, time_t now, unsigned max_failures,
		  unsigned lockout);
/* A successful login forgets the failures. */
void penalty_clear(struct penalty_table *t, const char *client);

#endif
