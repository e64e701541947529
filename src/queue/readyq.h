/*
 * The scheduler's ready messages, grouped twice:
 *   - by next hop (the route, smart host or "mx:<domain>" that deliver.c
 *     would use: qentry.hop_key). A next hop has at most `share` rounds
 *     in flight (queue.per_destination); while it has that many, none of
 *     its messages is handed out, so a slow or stalled next hop never
 *     holds more than its share of the global delivery slots and mail for
 *     every other next hop keeps flowing (issue 18 item 9: head-of-line
 *     blocking). Next hops with a free share are served round-robin.
 *   - within a next hop, by destination domain (qentry.dest_key: the
 *     domain of the first pending recipient), one FIFO each, served
 *     round-robin: a backlog for one domain does not make mail for another
 *     domain behind the same next hop wait behind all of it.
 * Nothing here walks more than the entries it hands out: a next hop at
 * its share simply leaves the rotation until one of its rounds ends.
 */
#ifndef MW_QUEUE_READYQ_H
#define MW_QUEUE_READYQ_H

#include <stdbool.h>
#include <stddef.h>

struct qentry;
struct readyq;

/* share: rounds in flight per next hop (at least 1). */
struct readyq *readyq_new(unsigned share);
void readyq_free(struct readyq *rq);

/* Append q to its destination's FIFO (q->dest_key and q->hop_key set). */
void readyq_push(struct readyq *rq, struct qentry *q);
/* Take q out, wherever it is in its FIFO (it is not going to fly). */
void readyq_remove(struct readyq *rq, struct qentry *q);
/* The oldest message of the destination whose turn it is, among next hops
 * below their share, or NULL; both go to the back of their rotations. The
 * caller removes it (readyq_remove) or starts it (readyq_start). */
struct qentry *readyq_next(struct readyq *rq);
/* q leaves the ready queue for a delivery round: it counts against its
 * next hop's share until readyq_finish(q). True if that takes the next
 * hop to its share (its other messages wait from now on). */
bool readyq_start(struct readyq *rq, struct qentry *q);
void readyq_finish(struct readyq *rq, struct qentry *q);

size_t readyq_destinations(const struct readyq *rq);

#endif
