/*
 * The notice mail of an automatic emergency level switch (SCAN-11): a
 * plain-text mail to emergency.notify saying which level a trigger
 * raised or lowered, from which, and the measured value against its
 * threshold. Queued like the malware alarm (queue/local_mail.h): durable
 * in queue/ before it counts as sent, delivered through the normal
 * routes, never scanned. Runs in the
 * queue process's main thread; a rare event, so the write's fsync on the
 * loop is accepted as for the other mail the queue makes.
 */
#ifndef MW_QUEUE_LEVEL_NOTICE_H
#define MW_QUEUE_LEVEL_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct config;
struct scheduler;
struct spool;

struct level_notice {
	size_t from, to;           /* level numbers */
	const char *why;           /* "queue_depth 5120 >= 5000" */
	unsigned held;             /* seconds the condition held (raised) or was clear (lowered) */
	time_t now;
};

/* The whole mail, header section and text, CRLF line ends (pure: for
 * the unit test). from and to: mailboxes; message_id: "<...>". */
void level_notice_write(FILE *out, const struct config *c, const struct level_notice *n, const char *from,
			const char *message_id);

/* Queue the notice to c->emergency.notify; false (nothing queued) when
 * it could not be written. id (idcap bytes) gets its queue id. */
bool level_notice_send(const struct config *c, struct spool *sp, struct scheduler *sch,
		       const struct level_notice *n, char *id, size_t idcap);

#endif
