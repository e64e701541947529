/*
 * What a file looked like when it was read: device, inode, size and
 * modification time. A file whose stamp differs has been changed (written
 * in place, replaced by a rename, removed or created), which is how the
 * gateway notices edited lists and rule files without inotify (which a
 * chrooted process could not set up for paths outside, and which misses
 * files on some network file systems). stat(2) only; any process.
 */
#ifndef MW_UTIL_FILESTAMP_H
#define MW_UTIL_FILESTAMP_H

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

struct file_stamp {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* The stamp of what st describes. */
struct file_stamp file_stamp_of(const struct stat *st);
/* The stamp of path now (exists false when it cannot be stat'ed). */
struct file_stamp file_stamp_take(const char *path);
bool file_stamp_same(const struct file_stamp *a, const struct file_stamp *b);

#endif
