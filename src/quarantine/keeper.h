/*
 * The quarantine as the queue process keeps it (SCAN-8, issue 11): the
 * files in spool/quarantine/ (the truth) and their index
 * spool/quarantine.db (state/quarantine_index.h), kept in step; release,
 * delete, expiry and the digest. Runs in the queue process, in its main
 * thread: the control socket (queue/control.h) hands it every
 * "quarantine ..." command with the peer's uid.
 *
 * Control commands (one line; words without spaces):
 *   quarantine list [json] [from=S] [to=S] [since=UNIXTIME] [min=HUNDREDTHS]
 *   quarantine release ID [to=ADDR]... [by=NAME]
 *   quarantine delete ID [by=NAME]
 *   quarantine digest [by=NAME]
 * by=NAME is the name an operator gave (--by); it is logged and stored
 * beside the Unix user of the peer, never instead of it.
 */
#ifndef MW_QUARANTINE_KEEPER_H
#define MW_QUARANTINE_KEEPER_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct config;
struct envelope;
struct scheduler;
struct spool;

#define QUARANTINE_INDEX_PATH "spool/quarantine.db"  /* relative to state_dir, where the queue runs */

struct keeper;

/* Open the index (creating it) and reconcile it with quarantine/: rows
 * added for files it lacks, rows without a file removed (logged
 * quarantine_index_synced). Never NULL: without an index the files stay
 * held and the commands that need it answer an error. */
struct keeper *keeper_open(struct spool *s, struct scheduler *sch);
void keeper_close(struct keeper *k);

/* A message was just committed into quarantine/ (fd: its spool file). */
void keeper_add(struct keeper *k, const struct envelope *e, int fd);

/* SCAN-9, issue 12: an engine found malware in a message from inside,
 * just committed into quarantine/ (held), or refused by another check
 * whose refusal wins over the hold (the client keeps it; the machine is
 * infected all the same). Logs the facts at warning level and
 * queues an alarm mail to scan.malware_alarm.to, at most one per sender
 * (the login, else the envelope sender) per scan.malware_alarm.interval
 * (quarantine/alarm.h; the rate is kept in this process's memory). The
 * strings come from the network, checked by the queue; none is NULL. */
struct keeper_alarm {
	const char *queue_id, *client, *helo, *login, *sender, *finding;
	bool held;
};
void keeper_outbound_malware(struct keeper *k, const struct config *c, const struct keeper_alarm *a);

/* Once a second: expiry (queue.quarantine_expiry) and the scheduled
 * digest (queue.quarantine_digest*), under the configuration c. */
void keeper_tick(struct keeper *k, const struct config *c);

/* Run the words after "quarantine " of a control line (modified in
 * place) for the peer uid; the answer goes to out. 0, or -1 (error
 * written). */
int keeper_command(struct keeper *k, const struct config *c, char *args, uid_t uid, FILE *out);

#endif
