/*
 * Failed AUTH attempts per client address (brute-force brake): after
 * max_failures failures a client is cut off for the lock-out time. One
 * table per smtpd process (with several smtpd processes a client may try
 * a few more times, once per process). Bounded: when full, the entry
 * seen longest ago is reused. Runs in smtpd.
 */
#ifndef MW_AUTH_PENALTY_H
#define MW_AUTH_PENALTY_H

#include <stdbool.h>
#include <time.h>

#define PENALTY_ENTRIES 4096

/* Is client (its address as text) cut off at time now? */
bool penalty_blocked(const char *client, time_t now);
/* Count a failure; true if the client is now cut off. */
bool penalty_fail(const char *client, time_t now, unsigned max_failures, unsigned lockout);
/* A successful login forgets the failures. */
void penalty_clear(const char *client);

#endif
