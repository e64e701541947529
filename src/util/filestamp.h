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
#include <stdint.h>
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
/* h extended by the stamp (FNV-1a): a digest of many files' stamps. */
uint64_t file_stamp_mix(uint64_t h, const struct file_stamp *st);

/* A change is acted on once it has stayed put for one poll. An editor
 * saving in place truncates the file and then writes it, a copy lands in
 * pieces: a poll between the two would load an empty or half file, and
 * the next poll would load again (a second reload for one edit, with the
 * half file in force in between). */
struct stamp_settle {
	bool changing;
	uint64_t changed;  /* the digest the last poll saw, while changing */
};
/* seen: the digest of the files in force; now: of the files as they are.
 * True when now differs from seen and is what the previous poll saw too. */
bool stamp_settled(struct stamp_settle *s, uint64_t seen, uint64_t now);

#endif
