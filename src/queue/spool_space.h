/*
 * Free space on the spool's file system, for the smtpds' check at MAIL
 * (issue 14, RFC 1870 6.1, RFC 5321 4.5.3.1.10: 452 4.3.1 before the
 * message is sent rather than after its last byte). smtpd runs chrooted
 * in an empty directory and cannot look at the spool itself, so the queue
 * measures it: a statvfs once a second in a worker thread (a file system
 * that blocks never stalls the loop), and each new figure that differs
 * from the last one told by SPOOL_SPACE_STEP or more goes to the
 * callback (and so to every smtpd). Runs in the queue process.
 */
#ifndef MW_QUEUE_SPOOL_SPACE_H
#define MW_QUEUE_SPOOL_SPACE_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct offload;
struct spool_space;

/* Changes smaller than this are not worth a message to every smtpd. */
#define SPOOL_SPACE_STEP (64u * 1024)

/* free_bytes: what the queue user may still write on the spool. */
typedef void (*spool_space_cb)(void *arg, uint64_t free_bytes);

/* Measure dir (relative to the queue's working directory) once a second
 * on workers; NULL if the timer cannot be made. */
struct spool_space *spool_space_start(struct event_base *base, struct offload *workers, const char *dir,
				      spool_space_cb cb, void *arg);
/* The last figure measured; false while none is known (never measured,
 * or statvfs failed: the check at the dot still holds then). */
bool spool_space_known(const struct spool_space *ss, uint64_t *free_bytes);
/* After the workers are freed (their completions touch it). */
void spool_space_free(struct spool_space *ss);

#endif
