/*
 * Group commit of one directory: every change (a rename into or out of it)
 * is numbered when it has returned; dirsync_wait(seq) returns once an
 * fsync of the directory that began after change seq has succeeded. One
 * thread at a time runs the fsync, the others wait for it or run the next,
 * so N changes made together cost one fsync (spool.h: the commit of
 * queue/). Thread-safe.
 */
#ifndef MW_QUEUE_DIRSYNC_H
#define MW_QUEUE_DIRSYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct dirsync {
	int fd;                 /* the directory, opened O_RDONLY */
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* broadcast after every fsync (CLOCK_MONOTONIC) */
	uint64_t changed;       /* number of the last change */
	uint64_t synced;        /* highest number covered by a successful fsync */
	bool syncing;
};

void dirsync_init(struct dirsync *d, int fd);
void dirsync_destroy(struct dirsync *d);

/* Number a change that has returned. */
uint64_t dirsync_changed(struct dirsync *d);

/* 0 once change seq is durable, or -errno if the fsync this thread ran failed. */
int dirsync_wait(struct dirsync *d, uint64_t seq);

/* For a change nobody waits on: gives other threads up to wait_ms to
 * cover it with an fsync they run anyway, then runs one itself. */
int dirsync_wait_lazy(struct dirsync *d, uint64_t seq, long wait_ms);

#endif
