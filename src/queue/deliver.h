/*
 * One delivery round of one message: its pending recipients grouped by
 * next hop (policy/route.h), one job per group: SMTP/LMTP through
 * smtp/client.c, maildir directly. Results go back to the scheduler.
 */
#ifndef MW_QUEUE_DELIVER_H
#define MW_QUEUE_DELIVER_H

struct config;
struct event_base;
struct qentry;
struct scheduler;

void deliver_start(struct event_base *base, const struct config *c, struct scheduler *sch, struct qentry *q);

#endif
