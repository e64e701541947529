/*
 * The spool: where accepted messages live until every recipient is done
 * . Only the queue process calls this and only it holds spool
 * descriptors: smtpd writes a message into a pipe whose other end the
 * queue splices into the file, and the scanner sees a sealed memfd copy
 * (SEC-1: neither can read a spool byte or reach a file later reused).
 *
 * Message states, and the single step that moves a message on:
 *
 *   state      file                step to the next state
 *   --------   -----------------   ---------------------------------------------
 *   (staged)   spool/tmp/<id>      empty: prepared by the pool's tidier thread
 *                                  (spool_pool.h), not yet a message;
 *                                  spool_create() takes it, open.
 *   RECEIVING  spool/tmp/<id>      spool_create() wrote the envelope; the
 *                                  queue splices what smtpd writes into the
 *                                  pipe after it; at the end of the message
 *                                  the verdict is made; spool_commit():
 *                                  the trailer (length, verdict, headers;
 *                                  envelope.h), fsync(file),
 *                                  renameat2(NOREPLACE) into queue/,
 *                                  fsync(queue/). Only then 250.
 *                                  Concurrent commits (worker threads)
 *                                  share the fsync(queue/) — a group
 *                                  commit: each waits for an fsync that
 *                                  began after its own rename.
 *   QUEUED     spool/queue/<id>    spool_mark() rewrites one recipient's status
 *                                  byte in place (pwrite) after its delivery
 *                                  or permanent failure (a permanent failure
 *                                  only after the bounce for it is QUEUED
 *                                  itself: spool_inject); spool_sync_marks()
 *                                  makes a round's marks durable when the
 *                                  message stays QUEUED. When it goes DONE
 *                                  instead, the durable removal stands for
 *                                  them. spool_hold(): rename into hold/.
 *   HELD       spool/hold/<id>     never delivered; spool_release(): rename
 *                                  back into queue/ (administrator, Q-3).
 *   DONE       spool/free/<id>     spool_remove() when no recipient is
 *                                  pending: the tidier renames the file
 *                                  into free/ (unlinks it when free/ is
 *                                  full), fsyncs queue/ (usually sharing a
 *                                  group commit's fsync), logs "removed" and
 *                                  empties the file. A held message is
 *                                  unlinked from hold/; "queue delete"
 *                                  (spool_delete) unlinks and syncs at once.
 *                                  free/ is not a message state (readable
 *                                  only by the queue user, like queue/):
 *                                  its files are never read, only staged
 *                                  again, which spares the file system an
 *                                  inode allocation per message.
 *
 * Every rename into queue/, quarantine/ or hold/ is followed by an fsync of
 * the directories involved before the step counts as done; the step to
 * DONE is made durable a moment later in the background (nothing waits on
 * it). Neither a mark nor a removal can lose a message: the worst a crash
 * can do to them is a duplicate. A process crash (kill -9) loses no mark
 * and no removal at all (they are in the kernel's page cache); a power
 * loss in the few milliseconds before the background fsync may bring a
 * delivered message back, which is then delivered once more.
 *
 *   QUARANTINED spool/quarantine/<id>  spool_commit_quarantine() instead of
 *                                  spool_commit() when the scanner said so
 *                                  (same fsync+rename, other directory).
 *                                  `mailwarden quarantine release` asks
 *                                  the queue, which copies the message
 *                                  unchanged into a new QUEUED file
 *                                  (spool_inject) for the chosen
 *                                  recipients, marks them done in the
 *                                  quarantined file, and unlinks that
 *                                  when none is left (quarantine/keeper.h).
 *                                  A crash between copy and mark can
 *                                  only lead to a duplicate.
 *
 * Recovery (spool_recover) after any crash: every file in tmp/ was never
 * acknowledged and is removed (an empty one, staged, goes back to free/);
 * every file in queue/ and hold/ is loaded
 * again (held ones stay held). A
 * recipient marked done is never delivered again; one delivered but not
 * yet marked (or, after a power loss, whose mark or removal had not reached
 * the disk) is delivered once more (at most one duplicate, never a loss).
 * A file in queue/ that does not decode — envelope, or trailer: cut off,
 * bytes missing or appended — is moved to corrupt/ and logged, never
 * deleted and never delivered as a short message.
 */
#ifndef MW_QUEUE_SPOOL_H
#define MW_QUEUE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/envelope.h"

struct spool;

/* Open (creating if needed) the spool in dir: tmp/, queue/, hold/, corrupt/.
 * Takes an exclusive lock (spool/lock) so two queue processes never share
 * a spool; waits up to lock_wait seconds for a previous one to go. */
struct spool *spool_open(const char *dir, unsigned lock_wait);
void spool_close(struct spool *s);

/* RECEIVING: assign e->id, create tmp/<id>, write the envelope. Returns the
 * file descriptor (the message goes at e->body_offset) or -1. */
int spool_create(struct spool *s, struct envelope *e);

/* RECEIVING -> QUEUED. fd is the queue's descriptor of tmp/<id>, which
 * holds body_len message bytes after the envelope; the trailer (e's
 * verdict, add_headers, subject_prefix) goes after them, and a file of any
 * other size refuses the commit. Returns 0, or -1 (file removed). */
int spool_commit(struct spool *s, const struct envelope *e, int fd, uint64_t body_len);

/* RECEIVING: put the message the scanner rewrote (src, a sealed memfd of
 * len bytes) in place of the received one in tmp/<id>, before the commit.
 * Returns 0, or -1 (file removed, like a failed commit). */
int spool_replace_message(struct spool *s, const struct envelope *e, int fd, int src, uint64_t len);

/* RECEIVING -> QUARANTINED: like spool_commit, into quarantine/. */
int spool_commit_quarantine(struct spool *s, const struct envelope *e, int fd, uint64_t body_len);

/* QUARANTINED: open quarantine/<id> (read-only, or for writing the
 * recipients' status bytes when a release hands some of them on).
 * Returns the fd or -1. */
int spool_open_quarantined(struct spool *s, const char *id, bool writable);

/* QUARANTINED -> gone (delete, expiry, release to every recipient):
 * unlinked and quarantine/ synced before it returns. 0 or -1. */
int spool_delete_quarantined(struct spool *s, const char *id);

/* found(id, arg) for every file in quarantine/ (the index's truth). */
void spool_each_quarantined(struct spool *s, void (*found)(const char *id, void *arg), void *arg);

/* released/<id> -> QUEUED for every file there; found() as in recovery. */
void spool_take_released(struct spool *s, void (*found)(const char *id, void *arg), void *arg);

/* A message made by the queue itself (a DSN): create, write data after
 * the envelope, commit. Returns the open descriptor (QUEUED) or -1. */
int spool_inject(struct spool *s, struct envelope *e, const void *data, size_t len);

/* Drop a message still RECEIVING. */
void spool_abort(struct spool *s, const char *id);

/* Load queue/<id> (hold/<id> if held): envelope into *e, and an open
 * read descriptor. Returns the fd or -1 (corrupt files go to corrupt/). */
int spool_load(struct spool *s, const char *id, bool held, struct envelope *e);

/* Open queue/<id> (hold/<id> if held) for reading and status marks.
 * Returns the fd or -1. The queue keeps a descriptor only while a message
 * is being delivered, so the number of queued messages is not bounded by
 * the descriptor limit. */
int spool_open_msg(struct spool *s, const char *id, bool held);

/* QUEUED <-> HELD. Return 0 or -1. */
int spool_hold(struct spool *s, const char *id);
int spool_release(struct spool *s, const char *id);

/* Record that the delay warning went out (the 'W' byte). 0 or -1. */
int spool_mark_warned(struct spool *s, int fd, const struct envelope *e);

/* Record a recipient's final status (in the page cache: it survives a
 * crash of the process, not a power loss). Returns 0 or -1. */
int spool_mark(struct spool *s, int fd, const struct envelope_rcpt *r, char status);

/* Make the marks written so far durable (for a message that stays
 * QUEUED after a round). Returns 0 or -1. */
int spool_sync_marks(struct spool *s, int fd);

/* QUEUED (or HELD) -> DONE, when no recipient is pending: the file leaves
 * queue/ a moment later, in the background. */
int spool_remove(struct spool *s, const char *id, bool held);

/* QUEUED (or HELD) -> gone, for "queue delete": unlinked and synced
 * before it returns. */
int spool_delete(struct spool *s, const char *id, bool held);

/* Clean tmp/ and call found() for every id in queue/ and hold/. */
void spool_recover(struct spool *s, void (*found)(const char *id, bool held, void *arg), void *arg);

#endif
