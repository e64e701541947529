/*
 * Tells the queue how many SMTP sessions this smtpd has open
 * (IPC_SESSIONS), for the emergency trigger on sessions (SCAN-11): a
 * change arms a short timer (SESSION_REPORT_MS) and the number as it is
 * then is sent, if it differs from the last one sent. At most ten small
 * datagrams a second, however many sessions come and go, and none while
 * nothing changes; a short delay, so that the queue's samples see a
 * load that comes and goes as it is, not as it was a second ago. Runs
 * on the smtpd's event loop.
 */
#ifndef MW_SMTP_SESSION_REPORT_H
#define MW_SMTP_SESSION_REPORT_H

#define SESSION_REPORT_MS 100

struct smtpd;

void session_report_start(struct smtpd *d);
/* A session began or ended. */
void session_report_changed(void);
/* The queue channel is a new one (a restarted queue): it is told the
 * number even if it did not change. */
void session_report_new_queue(void);
void session_report_stop(void);

#endif
