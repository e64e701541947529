/*
 * The scheduler's ready messages, one FIFO per destination and the
 * destinations served round-robin: a backlog for one next hop (a
 * slow internal server, a burst for one domain) does not make mail for the
 * others wait behind it; each destination with ready mail gets the next
 * free delivery slot in turn. A message's destination is the domain of its
 * first pending recipient (scheduler.c sets qentry.dest_key).
 */
#ifndef MW_QUEUE_READYQ_H
#define MW_QUEUE_READYQ_H

#include <stdbool.h>
#include <stddef.h>

struct qentry;
struct readyq;

struct readyq *readyq_new(void);
void readyq_free(struct readyq *rq);

/* Append q to its destination's FIFO (q->dest_key must be set). */
void readyq_push(struct readyq *rq, struct qentry *q);
/* Take q out, wherever it is in its FIFO. */
void readyq_remove(struct readyq *rq, struct qentry *q);
/* The oldest message of the destination whose turn it is, or NULL; the
 * destination goes to the back of the rotation. The caller removes it. */
struct qentry *readyq_next(struct readyq *rq);

size_t readyq_destinations(const struct readyq *rq);

#endif
