/*
 * Rehearsing an emergency level in smtpd (SCAN-11): while an
 * administrator rehearses a level (mailwarden ctl level N --rehearse), its
 * limits are checked beside the ones in force, and what they would have
 * refused is logged (event=rehearsal) and noted on the transaction, which
 * the queue reports with the verdict it would have made (queue/
 * emergency.h counts them); no reply changes. Sessions rehearse the level
 * that was rehearsed when they began.
 */
#ifndef MW_SMTP_REHEARSAL_H
#define MW_SMTP_REHEARSAL_H

struct ipc_eom;
struct smtp_session;

/* A session was let in; from_ip sessions come from its address (itself
 * included). */
void smtp_rehearse_connect(struct smtp_session *s, unsigned from_ip);

/* A recipient is about to be taken into s's transaction. */
void smtp_rehearse_rcpt(struct smtp_session *s);

/* partners_only of the rehearsed level would answer rcpt 450. */
void smtp_rehearse_partners(struct smtp_session *s, const char *rcpt);

/* The end of s's message: the size limit, then the rehearsal into e. */
void smtp_rehearse_eom(struct smtp_session *s, struct ipc_eom *e);

#endif
