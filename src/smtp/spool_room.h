/*
 * The free-space check at MAIL (issue 14; RFC 1870 6.1, RFC 5321
 * 4.5.3.1.10): when the spool cannot take the message the client
 * announces (its SIZE, or none) plus SPOOL_ROOM_RESERVE, MAIL is answered
 * 452 4.3.1 at once, instead of taking the whole message and failing it
 * at the final dot. smtpd is chrooted away from the spool: the figure is
 * the queue's (queue/spool_space.h, at most a second old). Until the
 * queue has told one, MAIL is not refused for space; the queue's own
 * ENOSPC at DATA or at the dot (452 4.3.1 too) still holds then, and for
 * a message larger than it said.
 */
#ifndef MW_SMTP_SPOOL_ROOM_H
#define MW_SMTP_SPOOL_ROOM_H

#include <stdbool.h>
#include <stdint.h>

struct mail_params;
struct smtp_session;

/* Room for a message without SIZE, and for what the spool itself needs
 * (envelopes, bounces, the staged files): Postfix's queue_minfree idea. */
#define SPOOL_ROOM_RESERVE (1024u * 1024)

/* Refuse s's MAIL with 452 4.3.1 if the spool lacks room for p's SIZE;
 * true if it did (logged as event=reject). */
bool smtp_spool_room_refuse(struct smtp_session *s, const struct mail_params *p);

#endif
