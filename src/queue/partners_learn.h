/*
 * Learning known partners from mail that flows (issue 13, SCAN-11), in
 * the queue, which owns the store for writing (state/partners.h): an
 * outbound message delivered (2xx) to an external recipient makes
 * (sender, recipient) a pair; an inbound message accepted untagged
 * (verdict accept, or no scan section) makes (recipient, sender) a pair
 * for each recipient. Pairs are noted in memory on the loop and written
 * behind, one transaction a second, by one worker thread; the same
 * thread forgets pairs older than emergency.partners.max_age once an
 * hour. smtpd's caches see the changes at their next look.
 */
#ifndef MW_QUEUE_PARTNERS_LEARN_H
#define MW_QUEUE_PARTNERS_LEARN_H

#include <stdbool.h>

struct config;
struct envelope;
struct event_base;

/* At the queue's start, after the drop (the file is the queue user's).
 * A store that cannot be opened is logged; then nothing is learned.
 * *config is read at each write (a reload replaces it). */
void partners_learn_start(struct event_base *base, const struct config *const *config);
/* At exit: what is noted is written, the worker joined. */
void partners_learn_stop(void);

/* The recipient rcpt of the outbound message env was delivered. */
void partners_learn_delivered(const struct config *c, const struct envelope *env, const char *rcpt);
/* The inbound message env was accepted untagged. */
void partners_learn_accepted(const struct config *c, const struct envelope *env);

#endif
