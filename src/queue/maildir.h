/*
 * Local delivery into a maildir (the demo's next hop and a simple local
 * store): the message, with Return-Path and Delivered-To prepended and
 * CRLF turned into LF, goes to tmp/, is fsynced, and renamed into new/.
 * Runs in the queue process; blocking file I/O on a local disk.
 */
#ifndef MW_QUEUE_MAILDIR_H
#define MW_QUEUE_MAILDIR_H

#include <stddef.h>
#include <sys/types.h>

struct msgview;

/* Writes view (msgview.h) of the message in body_fd. Returns 0, or -1
 * with a reason in why (why_cap bytes). */
int maildir_deliver(const char *dir, const char *queue_id, const char *sender, char *const *rcpts,
		    size_t n_rcpts, int body_fd, const struct msgview *view, char *why, size_t why_cap);

#endif
