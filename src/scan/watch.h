/*
 * Change watch over the scanner's files (lists, zones, recipient table),
 * polled by the master once a second: when one changed (inode, size or
 * modification time), the master reloads, and the new smtpd generation
 * loads the new data before its privilege drop while the old one finishes
 * its sessions. No restart, no lost session (SCAN-3, DESIGN "reload").
 * Runs in the master; stat(2) only.
 */
#ifndef MW_SCAN_WATCH_H
#define MW_SCAN_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define SCAN_WATCH_MAX 80

struct config;

struct scan_watch {
	const struct config *config;   /* the snapshot below belongs to this config */
	size_t n;
	struct {
		bool exists;
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime;
	} file[SCAN_WATCH_MAX];
};

/* True when a file of c's scan section changed since the last call with
 * the same c (the first call with a new c records and returns false). */
bool scan_watch_changed(struct scan_watch *w, const struct config *c);

#endif
