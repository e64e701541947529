/*
 * A non-blocking byte stream into the write end of a pipe, on libevent:
 * how smtpd hands a message to the queue. Bytes are buffered and written
 * as far as the pipe takes them; the caller bounds its backlog by pausing
 * its own input while pipeout_pending() is high, and learns through
 * pipeout_when_drained() when everything is written. The pipe is the only
 * capability smtpd holds for a message: it cannot read from it, and once
 * the queue closes the read end nothing written reaches any file.
 */
#ifndef MW_NET_PIPEOUT_H
#define MW_NET_PIPEOUT_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct pipeout;

/* Takes ownership of fd (made non-blocking). NULL on allocation failure
 * (fd closed). */
struct pipeout *pipeout_new(struct event_base *base, int fd);
/* Queue len bytes and write what the pipe takes now. False once the
 * stream has failed (the reader went away, or a write error). */
bool pipeout_write(struct pipeout *p, const void *data, size_t len);
/* Bytes queued but not yet in the pipe. */
size_t pipeout_pending(const struct pipeout *p);
bool pipeout_failed(const struct pipeout *p);
/* cb(arg, ok) once, when nothing is pending any more (possibly before
 * this returns) or the stream failed (ok false). */
void pipeout_when_drained(struct pipeout *p, void (*cb)(void *arg, bool ok), void *arg);
/* Close the pipe (the reader sees the end) and free; a pending callback
 * is not called. */
void pipeout_free(struct pipeout *p);

#endif
