/*
 * The queue's side of the scanner process (content/scanner.h): sends a
 * committed-length copy of a message (msgview_sealed_copy) and waits, with
 * a deadline, for the content checks' result. Runs in the queue process,
 * on its event loop.
 *
 * Every scan ends exactly once in its callback: with the result, or with
 * NULL and a reason (scanner not running, gone mid-scan, deadline passed,
 * a result that does not decode). What a failure means (451 or accept
 * unscanned) is the caller's policy.
 */
#ifndef MW_QUEUE_CONTENT_SCAN_H
#define MW_QUEUE_CONTENT_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct ipc_scan_result;
struct ipc_scan_request;
struct content_client;
struct content_scan;

/* rewrite_fd: when r says the scanner rewrote the message, a sealed memfd
 * holding exactly r->rewritten_size bytes (checked here); the callback
 * owns it. Otherwise -1. */
typedef void (*content_scan_done)(void *arg, const struct ipc_scan_result *r, int rewrite_fd, const char *why);

struct content_client *content_client_new(struct event_base *base);
/* Scans still pending end without their callbacks; the channels close. */
void content_client_free(struct content_client *cc);
/* A channel to a (new) scanner, from the master: new scans go there. The
 * scanner it replaces answers the scans it has; one it leaves unanswered
 * (a request that reached it after it began to stop) is sent once to the
 * new one. */
void content_client_attach(struct content_client *cc, int fd);

/* Scan fd's bytes [from, end), with req's envelope and symbols (its size
 * is set here). Returns a handle, or NULL with *why set when it cannot
 * even start (done is then not called). */
struct content_scan *content_scan_start(struct content_client *cc, int fd, off_t from, off_t end,
					struct ipc_scan_request *req, unsigned timeout_ms, content_scan_done done,
					void *arg, const char **why);
/* Health for `ctl status` (issue 15): is a scanner connected, and how
 * many scans wait for an answer. */
void content_client_health(const struct content_client *cc, bool *connected, size_t *in_flight);

/* The transaction went away: done is not called. */
void content_scan_cancel(struct content_scan *cs);

#endif
