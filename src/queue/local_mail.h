/*
 * Mail the queue writes itself to an administrator or user (the
 * malware alarm, the quarantine digest, the notice of an automatic
 * emergency level): committed to queue/ with spool_inject (fsync'd:
 * durable before it counts as sent) and handed to the scheduler, which
 * delivers it through the normal routes, never scanned. Runs in the
 * queue process's main thread. DSNs are made by the scheduler itself
 * (null sender, RFC 3464).
 */
#ifndef MW_QUEUE_LOCAL_MAIL_H
#define MW_QUEUE_LOCAL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scheduler;
struct spool;

/* "<16 random hex digits.tag@hostname>" into out (size bytes). */
void local_mail_message_id(char *out, size_t size, const char *tag, const char *hostname);

/* Queue text (len bytes, a whole message) from the mailbox from to the
 * mailbox to, with envelope flags (ENVELOPE_F_8BITMIME or 0); hostname
 * is the HELO recorded. True when it is committed; its queue id in id
 * (idcap bytes). */
bool local_mail_queue(struct spool *sp, struct scheduler *sch, const char *hostname, const char *from,
		      const char *to, uint32_t flags, const char *text, size_t len, char *id, size_t idcap);
/* The same to n_to mailboxes (a TLS-RPT report's rua= list). */
bool local_mail_queue_to(struct spool *sp, struct scheduler *sch, const char *hostname, const char *from,
			 const char *const *to, size_t n_to, uint32_t flags, const char *text, size_t len, char *id,
			 size_t idcap);

#endif
