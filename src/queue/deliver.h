/*
 * One delivery round of one message: its pending recipients grouped by
 * next hop, one job per group. The next hop of a recipient domain is
 * (TOP-1, TOP-2, TOP-3):
 *   1. its static route (policy/route.h): smtp://, lmtp://, maildir:;
 *   2. else, for a domain that is not local, the smart host if one is
 *      configured;
 *   3. else its MX hosts, looked up asynchronously (dns/dns.h) and ordered
 *      by queue/mx.h; each host's A records, then AAAA, on queue.mx_port.
 * A local domain without a route waits (451): a reload may bring one.
 * DNS trouble is a temporary failure, so MX-routed mail waits in the
 * queue while static routes keep working (TOP-4). SMTP/LMTP goes through
 * smtp/client.c, maildir directly. Results go back to the scheduler.
 */
#ifndef MW_QUEUE_DELIVER_H
#define MW_QUEUE_DELIVER_H

#include <stddef.h>

#include "util/metrics.h"

struct config;
struct dns;
struct event_base;
struct qentry;
struct scheduler;

/* The next hop deliver_start() would use for a recipient domain, as it
 * names it in logs: a route's or the smart host's spec, "mx:<domain>", or
 * "none:<domain>" for a local domain without a route. Pure. */
void deliver_nexthop(const struct config *c, const char *domain, char *buf, size_t size);

/* The class of a next hop as deliver_nexthop() names it, for the
 * metrics: MX, the smart host, a static SMTP route, LMTP or maildir. */
enum metric_hop deliver_hop_class(const struct config *c, const char *nexthop);

void deliver_start(struct event_base *base, const struct config *c, struct dns *dns,
		   struct scheduler *sch, struct qentry *q);

#endif
