/*
 * What sessions need from their smtpd process: the configuration, the
 * event base, the queue channel and the session list. Private to smtp/.
 */
#ifndef MW_SMTP_SMTPD_INTERNAL_H
#define MW_SMTP_SMTPD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "smtp/session.h"

struct config;
struct channel;
struct event_base;
struct smtpd_assets;
struct penalty_table;
struct rate_table;
struct offload;

struct smtpd {
	const struct config *config;         /* as loaded: level 0, and the list of levels */
	const struct config *active;         /* SCAN-11: the emergency level new sessions start under */
	uint32_t level;                      /* its number */
	const struct config *rehearse_cfg;   /* a level rehearsed: judged, not acted on (NULL: none) */
	uint32_t rehearse;
	struct event_base *base;
	struct channel *queue;
	TAILQ_HEAD(, smtp_session) sessions;
	unsigned n_sessions;
	uint32_t next_reqid;
	bool stopping;
	const struct smtpd_assets *assets;   /* TLS contexts and credentials */
	struct penalty_table *penalties;     /* failed AUTHs per client address */
	struct rate_table *tls_rate;         /* TLS handshakes per client address */
	struct offload *auth_workers;        /* password checks, off the event loop */
	bool spool_free_known;               /* the queue told spool_free (smtp/spool_room.h) */
	uint64_t spool_free;                 /* bytes free on the spool, as the queue last said */
};

/* The live session with this id, or NULL (it ended meanwhile). */
struct smtp_session *smtpd_session_by_id(struct smtpd *d, const char *id);

/* A session ended (called by session code before it frees itself). */
void smtpd_session_gone(struct smtpd *d, struct smtp_session *s);
/* Count sessions from the same client address. */
unsigned smtpd_sessions_from(const struct smtpd *d, const struct sockaddr *sa);

#endif
