/*
 * Inside the quarantine keeper (keeper.c, actions.c, digest_send.c):
 * the state they share. Not for other modules.
 */
#ifndef MW_QUARANTINE_KEEPER_IMPL_H
#define MW_QUARANTINE_KEEPER_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "quarantine/keeper.h"

struct qindex;
struct alarm_rate;

struct keeper {
	struct spool *spool;
	struct scheduler *sch;
	struct qindex *index;       /* NULL: it could not be opened */
	unsigned expiry_ticks;      /* seconds since the last expiry run */
	struct alarm_rate *alarms;  /* SCAN-9's alarms sent per sender (alarm_send.c); NULL until the first */
};

/* Who acted: the peer's Unix user name (or "uid:N"), and the name given
 * with by=NAME (NULL if none). */
struct keeper_actor {
	char user[64];
	const char *operator;
};

/* release ID [to=ADDR]... and delete ID (actions.c). */
int keeper_release(struct keeper *k, const char *id, char **to, size_t n_to, const struct keeper_actor *who,
		   FILE *out);
int keeper_delete(struct keeper *k, const char *id, const struct keeper_actor *who, FILE *out);

/* One digest run now (digest_send.c): a mail to each recipient with
 * inbound mail held since their last digest. Returns how many, or -1. */
long keeper_digest(struct keeper *k, const struct config *c, const struct keeper_actor *who);

/* The message's score in hundredths, from its verdict record
 * "ACTION SCORE SYMBOLS" (0 if it does not parse). */
int keeper_score_of(const char *verdict);

#endif
