/*
 * The pool of recycled spool files and the tidier thread that keeps it
 * (a helper of spool_fs.c, queue process only).
 *
 * Why: allocating an inode is the most expensive step of the whole path on
 * ext4 when many were freed in the last seconds (the allocator skips
 * recently deleted inodes one by one), and directory operations in busy
 * directories are the next most expensive. So a delivered message's file
 * is not unlinked but renamed into free/, emptied and reused, and the
 * event loop does none of that directory work itself:
 *
 *   event loop                      tidier thread
 *   spool_pool_take(): a file       stages files: a free one renamed into
 *   ready in tmp/ under a fresh     tmp/<fresh id> and opened (a new one
 *   id, already open                when free/ is empty)
 *   spool_pool_retire(id): a DONE   renames queue/<id> into free/, makes it
 *   message, handed over            durable (fsync of queue/, usually one the
 *                                   group commit runs anyway), empties it
 *                                   keeps free/ at POOL_LOW files or more
 *
 * Both calls of the loop only take a lock; when the tidier falls behind
 * they say so and spool_fs.c does the step itself. free/ is not a message
 * state: its files are never read. tmp/ holds up to POOL_STAGED empty
 * staged files besides the messages being received; recovery gives empty
 * files in tmp/ back to free/.
 */
#ifndef MW_QUEUE_SPOOL_POOL_H
#define MW_QUEUE_SPOOL_POOL_H

#include <stdbool.h>

#include "queue/dirsync.h"
#include "queue/envelope.h"

struct spool_pool;

/* Start the tidier for the spool's free/, tmp/ and queue/ (descriptors
 * borrowed). It waits for spool_pool_recover() before it touches free/. */
struct spool_pool *spool_pool_start(int free_fd, int tmp_fd, int queue_fd, struct dirsync *queue_sync);
void spool_pool_stop(struct spool_pool *p);

/* At start-up: adopt free/<name> (called for each file there; what is not
 * a plain single-link file with a queue id is removed), then say that
 * recovery is over: only then does the tidier start its work. */
void spool_pool_adopt(struct spool_pool *p, const char *name);
void spool_pool_recovered(struct spool_pool *p);

/* A file for a new message: its id into id, the open descriptor
 * (read-write, append, empty) returned. A staged one if there is one, else
 * staged here and now; -1 (logged) if no file could be made. */
int spool_pool_take(struct spool_pool *p, char id[QUEUE_ID_LEN + 1]);

/* Hand over queue/<id>, whose message is DONE. false: the tidier's list is
 * full; the caller removes the file itself. */
bool spool_pool_retire(struct spool_pool *p, const char *id);

#endif
