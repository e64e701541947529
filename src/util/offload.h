/*
 * Work that may block (a disk-bound SQLite query, a slow password hash)
 * run off the event loop: a few worker threads take jobs in order, and
 * each job's completion runs back on the loop's thread. Nothing that
 * waits on the disk or burns CPU for milliseconds may run on a loop that
 * serves hundreds of sessions (issue 16 item 8).
 */
#ifndef MW_UTIL_OFFLOAD_H
#define MW_UTIL_OFFLOAD_H

#define OFFLOAD_THREADS_MAX 16

struct event_base;
struct offload;

/* threads workers (1 to OFFLOAD_THREADS_MAX); with exactly 1, jobs run one after the
 * other, so a resource that is not thread-safe may be used by them all.
 * NULL if the threads or the wake-up pipe cannot be made. */
struct offload *offload_new(struct event_base *base, unsigned threads);

/* work(arg) runs in a worker thread; then done(arg) on the loop's thread
 * (always, exactly once). arg belongs to the caller throughout. */
void offload_run(struct offload *o, void (*work)(void *arg), void (*done)(void *arg), void *arg);

/* At exit: the workers finish every job given to them, are joined, and
 * the completions still due run here, on the caller's (the loop's)
 * thread; then everything is freed. NULL is allowed. */
void offload_free(struct offload *o);

#endif
