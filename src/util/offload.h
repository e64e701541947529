/*
 * Work that may block (a disk-bound SQLite query, a slow password hash)
 * run off the event loop: a few worker threads take jobs in order, and
 * each job's completion runs back on the loop's thread. Nothing that
 * waits on the disk or burns CPU for milliseconds may run on a loop that
 * serves hundreds of sessions (issue 16 item 8).
 */
#ifndef MW_UTIL_OFFLOAD_H
#define MW_UTIL_OFFLOAD_H

struct event_base;
struct offload;

/* threads workers (at least 1); with exactly 1, jobs run one after the
 * other, so a resource that is not thread-safe may be used by them all.
 * NULL if the threads or the wake-up pipe cannot be made. */
struct offload *offload_new(struct event_base *base, unsigned threads);

/* work(arg) runs in a worker thread; then done(arg) on the loop's thread
 * (always, exactly once). arg belongs to the caller throughout. */
void offload_run(struct offload *o, void (*work)(void *arg), void (*done)(void *arg), void *arg);

#endif
