/*
 * Automatic emergency levels in the queue process (SCAN-11): once a
 * quarter second the measures are sampled (queue depth from the scheduler,
 * messages received and the scanner's malware findings, SMTP
 * sessions as the smtpds report them, free space on the spool by
 * statvfs in a worker thread), the triggers judged (queue/trigger.h),
 * and the level switched through queue/emergency.h, which keeps a level
 * set by hand as the floor. Every automatic switch is logged with the
 * measured value and the threshold, and a notice mail goes to
 * emergency.notify (queue/level_notice.h). Runs on the queue's event loop;
 * nothing here blocks it.
 */
#ifndef MW_QUEUE_LEVEL_AUTO_H
#define MW_QUEUE_LEVEL_AUTO_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct emergency;
struct event_base;
struct scheduler;
struct spool;
struct spool_space;
struct level_auto;

/* *config changes on reload (the triggers then start again). space: the
 * spool's free space as the queue measures it for the smtpds (read, not
 * measured again, by the spool_free_below trigger). */
struct level_auto *level_auto_new(struct event_base *base, const struct config *const *config,
				  struct emergency *em, struct scheduler *sch, struct spool *sp,
				  const struct spool_space *space);
/* Before space is freed. */
void level_auto_free(struct level_auto *la);

/* One message received whole (END-OF-MESSAGE), judged or not. */
void level_auto_received(struct level_auto *la);

/* A malware engine found something in a message received. */
void level_auto_malware(struct level_auto *la);

/* The SMTP sessions open in one smtpd (key: any value that names it
 * while it lives, its channel), n; smtpd_gone: it went away. */
void level_auto_sessions(struct level_auto *la, const void *key, unsigned n);
void level_auto_smtpd_gone(struct level_auto *la, const void *key);

#endif
