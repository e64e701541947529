/*
 * The master's side of Bayes (issue 11): the scanner reads state_dir's
 * bayes.db whole when it starts, so new training reaches it only through
 * a new scanner.
 *
 * - The store is watched: once it has changed (`mailwarden learn`, or the
 *   learner below) and stayed unchanged for one poll, the master replaces
 *   the scanner, the way an edited rule file does.
 * - Auto-learning (scan.bayes_autolearn): the scanner sends each clearly
 *   judged message's tokens (IPC_BAYES_SAMPLE); they are kept here, at
 *   most BAYES_BATCH_MAX, and every interval a short-lived learner (a
 *   fork of the master, like the rules compiler: it writes the store the
 *   unprivileged scanner must not) applies them in one transaction.
 *   Samples not yet applied are lost with the master: auto-learning is a
 *   drift correction, not a record.
 */
#ifndef MW_MASTER_BAYES_STORE_H
#define MW_MASTER_BAYES_STORE_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#define BAYES_BATCH_MAX 2000

struct config;
struct ipc_msg;
struct bayes_store;

/* c: the store as the first scanner will read it. */
struct bayes_store *bayes_store_new(const struct config *c);
void bayes_store_free(struct bayes_store *bs);

/* A sample from the scanner; false if it does not decode (a protocol
 * error). A sample beyond BAYES_BATCH_MAX is dropped (counted, logged at
 * the next batch). */
bool bayes_store_sample(struct bayes_store *bs, struct ipc_msg *m);

/* Once per poll: start the learner when the interval is up and samples
 * wait. True when the store changed and has since stayed put: the caller
 * replaces the scanner. */
bool bayes_store_poll(struct bayes_store *bs, const struct config *c, time_t now);

/* pid exited: true if it was the learner (its outcome logged). */
bool bayes_store_reaped(struct bayes_store *bs, pid_t pid, int status);

/* The master stops: end a learner at work (its transaction rolls back). */
void bayes_store_stop(struct bayes_store *bs);

#endif
