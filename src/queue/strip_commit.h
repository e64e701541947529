/*
 * The strip action in the spool (SCAN-8): the scanner returned the
 * message with offending parts replaced by notices; the stripped message
 * is delivered and the original is kept in quarantine, releasable
 * (`mailwarden quarantine release` delivers the original as received).
 *
 * Two spool files, two ids. The ORIGINAL keeps the id it was received
 * and scanned under (the notice names it, {queue_id}, so the recipient
 * can ask for exactly that message) and goes RECEIVING -> QUARANTINED.
 * The STRIPPED message gets a new id (spool_create), its own copy of the
 * envelope, the rewrite as its body, and goes RECEIVING -> QUEUED. The
 * logs link the two (quarantined: stripped_as=<new id>).
 *
 * Order, each step durable before the next (fsync of the file, rename,
 * fsync of the directories, as spool_commit does it):
 *   1. the stripped message is written into tmp/<new> (not yet a message:
 *      recovery removes tmp/);
 *   2. the original is committed into quarantine/<id>;
 *   3. the stripped message is committed into queue/<new>.
 * A crash after 2 leaves the original held and nothing delivered; the
 * client saw no 250 and sends again: at worst a second quarantined copy,
 * never a loss and never the unstripped message delivered. The client
 * gets its 250 only after 3 (or after 2 if 1 or 3 failed: the message is
 * then safe in quarantine, logged, delivered when released).
 */
#ifndef MW_QUEUE_STRIP_COMMIT_H
#define MW_QUEUE_STRIP_COMMIT_H

#include <stdint.h>

#include "queue/envelope.h"

struct spool;

struct strip_commit {
	struct envelope delivered;  /* the stripped message's envelope (its own id) */
	int fd;                     /* its spool file, QUEUED; -1: not made (logged) */
};

/* Commit worker thread. orig, fd, size: the received message (RECEIVING,
 * size bytes after its envelope, trailer fields set); rewrite_fd,
 * rewrite_size: the sealed memfd of the stripped message. Returns 0 when
 * the original is in quarantine (out->fd: the stripped message queued,
 * or -1), -1 when nothing was committed (files removed). */
int strip_commit_run(struct spool *sp, struct envelope *orig, int fd, uint64_t size, int rewrite_fd,
		     uint64_t rewrite_size, struct strip_commit *out);

#endif
