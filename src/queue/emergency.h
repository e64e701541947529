/*
 * Switching emergency levels at runtime (SCAN-11), in the queue process:
 * the commands "level" and "status" of the queue's control socket
 * (queue/control.h), the level's state file (state/levelstate.h), the
 * end of a level switched on "--for" a while, and telling every smtpd
 * (IPC_LEVEL) which level its new sessions start under. Nothing is
 * restarted: sessions in progress finish under the level they began
 * with, the queue and the scanner judge each message by the level its
 * session gave (ipc_eom.level). Runs on the queue's event loop; the
 * state file is written on a switch (a small file, fsync'd).
 */
#ifndef MW_QUEUE_EMERGENCY_H
#define MW_QUEUE_EMERGENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct config;
struct event_base;
struct emergency;

/* Called on every switch with the new level's number and the level
 * being rehearsed (0: none) (arg: the queue). */
typedef void emergency_tell_fn(void *arg, uint32_t level, uint32_t rehearse);

/* The "by" of a switch made by a trigger (SCAN-11, queue/level_auto.h). */
#define EMERGENCY_BY_TRIGGER "trigger"

/* Writes more lines of "status" (the triggers' state) to out. */
typedef void emergency_status_fn(void *arg, FILE *out);

/* Read the state file of *config (which changes on reload); a level whose
 * time is over ends now. */
struct emergency *emergency_new(struct event_base *base, const struct config *const *config,
				emergency_tell_fn *tell, void *arg);
void emergency_free(struct emergency *em);

/* The level new sessions start under now (for an smtpd just connected). */
uint32_t emergency_level(const struct emergency *em);

/* The level being rehearsed (0: none): judged on live traffic, logged
 * and counted, never acted on. Not kept across a restart. */
uint32_t emergency_rehearsing(const struct emergency *em);

/* A message judged under the rehearsed level: would is the verdict
 * action it would have had ("refuse", "quarantine", ...), or NULL if the
 * same as the one it had. Counted for "status". */
void emergency_rehearsed(struct emergency *em, const char *would);

/* SCAN-11 triggers: the triggers ask for level want (0: none) because of
 * why ("queue_depth 5120 >= 5000"). A level set by hand is the floor: a
 * trigger only raises above it, and only lowers what a trigger raised,
 * never below the floor. True when the level in force changed; logged,
 * saved (by "trigger") and told like a switch by hand. */
bool emergency_auto(struct emergency *em, size_t want, const char *why);

/* Was the level in force raised by a trigger? */
bool emergency_automatic(const struct emergency *em);

/* How many switches by hand (and ends of --for) there were: a change
 * tells the triggers to start their hold time again, so that a level
 * set by hand is not taken back at once. */
unsigned long emergency_manual_switches(const struct emergency *em);

void emergency_set_status_hook(struct emergency *em, emergency_status_fn *fn, void *arg);

/* A control command: "status", or "level [N|NAME] [--for DURATION]
 * [--reason TEXT] [--rehearse]" from the peer uid; the answer goes to
 * out. 0: done; -1: refused (the reason in out). "level N --rehearse"
 * rehearses level N instead of switching to it; "level 0 --rehearse"
 * ends the rehearsal. */
int emergency_command(struct emergency *em, const char *line, uid_t uid, FILE *out);

#endif
