/*
 * Failed AUTH attempts per client address (brute-force brake): after
 * max_failures failures a client is cut off for the lock-out time.
 *
 * One table for all smtpd processes (issue 16 item 9): the master maps it
 * shared and anonymous before it forks any smtpd, so every smtpd (and
 * every restarted one, and those a reload starts) counts into the same
 * table and the lock-out holds as configured however many processes
 * there are. A process-shared robust mutex guards it; a process that dies
 * holding it does not block the others (the next one repairs the lock),
 * and a lock that cannot be had within a few milliseconds counts as "not
 * blocked" rather than stalling a session. Bounded: when full, the entry
 * seen longest ago is reused. Entries are plain data, read with bounded
 * compares, so a corrupted table cannot make another smtpd read outside
 * it. Used in smtpd.
 */
#ifndef MW_AUTH_PENALTY_H
#define MW_AUTH_PENALTY_H

#include <stdbool.h>
#include <time.h>

#define PENALTY_ENTRIES 4096

struct penalty_table;

/* shared: map it so that processes forked afterwards share it. NULL if
 * the mapping or the lock cannot be made. */
struct penalty_table *penalty_new(bool shared);
void penalty_free(struct penalty_table *t);

/* Is client (its address as text) cut off at time now? */
bool penalty_blocked(struct penalty_table *t, const char *client, time_t now);
/* Count a failure; true if the client is now cut off. */
bool penalty_fail(struct penalty_table *t, const char *client, time_t now, unsigned max_failures,
		  unsigned lockout);
/* A successful login forgets the failures. */
void penalty_clear(struct penalty_table *t, const char *client);

#endif
