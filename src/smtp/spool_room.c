/*
 * The free-space check at MAIL: see spool_room.h.
 */
#include "smtp/spool_room.h"

#include "smtp/params.h"
#include "smtp/session.h"
#include "smtp/smtpd_internal.h"
#include "util/log.h"

bool smtp_spool_room_refuse(struct smtp_session *s, const struct mail_params *p)
{
	const struct smtpd *d = s->smtpd;
	if (!d->spool_free_known)
		return false;
	uint64_t want = (p->has_size ? p->size : 0) + SPOOL_ROOM_RESERVE;
	if (d->spool_free >= want)
		return false;
	/* The gateway's trouble, not the client's: not counted as its error. */
	log_event(LOG_WARNING, "reject", "session", s->id, "client", s->client_ip, "command", "MAIL",
		  "reason", "insufficient spool space", "spool_free", log_u64(d->spool_free), "wanted",
		  log_u64(want), NULL);
	smtp_session_reply(s, "452 4.3.1 Insufficient system storage");
	return true;
}
