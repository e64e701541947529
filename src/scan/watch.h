/*
 * Change watch over the scanner's files (lists, zones, recipient table).
 * smtpd is chrooted and cannot reopen them, so the queue process (not
 * chrooted, in the state directory) checks them once a second: when one
 * changed (inode, size or modification time), it sends every smtpd a
 * fresh read-only descriptor of each file (IPC_SCAN_FILE); smtpd rebuilds
 * its data from them without a restart (scan/reload.h). The descriptor is
 * the capability: smtpd never gets a path to open.
 *
 * The baseline is the master's snapshot taken just before it forks a
 * generation (scan_watch_at_fork, inherited by the queue), so a change
 * between the fork and the queue's first check is never missed.
 */
#ifndef MW_SCAN_WATCH_H
#define MW_SCAN_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/policy.h"
#include "util/filestamp.h"

struct config;
struct channel;

struct scan_watch {
	const struct config *config;   /* the snapshot below belongs to this config */
	size_t n;
	struct file_stamp file[SCAN_FILES_MAX];
};

/* Taken by the master before each generation's fork (master.c). */
extern struct scan_watch scan_watch_at_fork;

/* True when a file of c's scan section changed since the last call with
 * the same c (the first call with a new c records and returns false). */
bool scan_watch_changed(struct scan_watch *w, const struct config *c);

/* In the queue, once a second: on a change, send every channel the files'
 * descriptors (IPC_SCAN_FILE, in scan_config_files() order). */
void scan_watch_poll(struct scan_watch *w, const struct config *c, struct channel *const *channels, size_t n);

#endif
