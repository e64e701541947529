/*
 * The emergency level in force (SCAN-11), kept in a small text file
 * (emergency.state_file) so that it survives a restart:
 *
 *   level flood
 *   since 1796632200
 *   until 1796632202        (0: until switched back by hand)
 *   by uid:0
 *   reason mail flood from 192.0.2.0/24
 *
 * Written by the queue process, which takes the switches on its control
 * socket (queue/emergency.c), as a temporary file renamed over the old
 * one; read by the queue at start and by the master before it forks an
 * smtpd. The level is kept by name: a reload that reorders the levels
 * keeps the one in force. Blocking file I/O: small, and only on a switch
 * or a start.
 */
#ifndef MW_STATE_LEVELSTATE_H
#define MW_STATE_LEVELSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct config;

#define LEVELSTATE_NAME_MAX 32
#define LEVELSTATE_REASON_MAX 200
#define LEVELSTATE_BY_MAX 32

struct level_state {
	char name[LEVELSTATE_NAME_MAX + 1];
	long long since, until;              /* seconds since the epoch; until 0: no end */
	char by[LEVELSTATE_BY_MAX + 1];      /* "uid:0", "expiry" */
	char reason[LEVELSTATE_REASON_MAX + 1];
};

/* Read path into *st; false (st is level 0's "normal", never set) if the
 * file is missing or not one this module wrote. */
bool level_state_read(const char *path, struct level_state *st);

/* Replace path with st; false with errno's text in why (size bytes). */
bool level_state_write(const char *path, const struct level_state *st, char *why, size_t size);

/* The number of the level st names in c at time now: 0 when st names no
 * level of c or its until has passed. */
size_t level_state_level(const struct config *c, const struct level_state *st, time_t now);

/* The master, before it forks an smtpd: the level of c's state file now. */
size_t level_state_current(const struct config *c, time_t now);

#endif
