/*
 * The outbound infection alarm (issue 12, SCAN-9): malware in mail from
 * inside (trusted network or a logged-in user) means an infected machine
 * of ours. The message is held (quarantine) and the administrator gets
 * one plain-text alarm mail per sender per interval (scan.malware_alarm).
 * This module is the pure part, unit-tested alone: the rate table (in the
 * queue process's memory, held by the keeper: a restart forgets it and
 * may send one alarm more, never one less) and the text of the mail.
 * keeper_outbound_malware (alarm_send.c) logs, asks and queues it.
 */
#ifndef MW_QUARANTINE_ALARM_H
#define MW_QUARANTINE_ALARM_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* Senders remembered at once; when full, the one alarmed longest ago
 * makes room (an alarm storm from more distinct senders than this sends
 * at most one more alarm each). */
#define ALARM_SENDERS_MAX 1024
#define ALARM_WHO_MAX 256

struct alarm_rate {
	struct {
		char who[ALARM_WHO_MAX];   /* login or envelope sender, lower case */
		time_t last;
	} slot[ALARM_SENDERS_MAX];
	size_t n;
};

/* Is an alarm for who (the login, else the envelope sender; compared
 * without case) due at now? True when none was sent for who in the last
 * interval seconds; then now is recorded as its last alarm. */
bool alarm_rate_due(struct alarm_rate *r, const char *who, time_t now, unsigned interval);

struct alarm_mail {
	const char *hostname;           /* the gateway */
	const char *from, *to;          /* mailboxes (checked by the configuration) */
	const char *message_id;         /* "<...>" */
	time_t now;
	unsigned interval;              /* seconds: named in the text */
	/* The held message; from the network, written with controls (and,
	 * in the header section, non-ASCII) replaced by '?'. */
	const char *queue_id, *client, *helo, *login, *sender, *finding;
	bool held;                      /* in quarantine; false: refused at the final dot */
};

/* The whole mail, header section and text; CRLF line ends. */
void alarm_write(FILE *out, const struct alarm_mail *m);

#endif
