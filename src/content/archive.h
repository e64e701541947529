/*
 * Archives and compressed files (issue 12, SCAN-6/SCAN-7): what is inside
 * a buffer that is a zip, 7z, rar (where libarchive reads it), tar, cpio,
 * cab, iso, xar, lha, or a gz / bz2 / xz / lzma / lzip / zstd / compress
 * stream, or Outlook's TNEF container (winmail.dat, content/tnef.h),
 * found from the content (never from a name), walked recursively
 * with Debian's libarchive, from memory (archive_read_open_memory): no
 * temporary files, no external programs (libarchive's filters that spawn
 * lrzip, lzop or grzip are not enabled).
 *
 * Bounded: depth, entries, bytes per entry, bytes in all and expansion
 * ratio have hard limits. Hitting one is a result of the walk (a bomb, too
 * deep, too many), never an outage: the walk stops there, having cost at
 * most the limits in time and memory (the bytes held at any moment are
 * within max_total_bytes: every buffer alive is counted in it).
 *
 * Thread-safe: each call works on its own libarchive objects (the
 * scanner's workers walk in parallel). Pure: no I/O besides memory.
 */
#ifndef MW_CONTENT_ARCHIVE_H
#define MW_CONTENT_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a walk ran into; one bit each. */
enum archive_finding {
	ARCHIVE_FOUND_BOMB = 1u << 0,      /* bytes per entry, in all, or the expansion ratio passed */
	ARCHIVE_FOUND_TOO_DEEP = 1u << 1,  /* an archive at the depth limit holds another archive */
	ARCHIVE_FOUND_TOO_MANY = 1u << 2,  /* more entries than the limit */
	ARCHIVE_FOUND_ENCRYPTED = 1u << 3, /* a password-protected entry (or encrypted header) */
	ARCHIVE_FOUND_BROKEN = 1u << 4,    /* an archive that could not be read to its end */
};

struct archive_limits {
	unsigned max_depth;        /* archives inside archives: 1 = only the outer one is opened */
	size_t max_entries;        /* files in all levels together */
	size_t max_entry_bytes;    /* unpacked bytes of one file */
	size_t max_total_bytes;    /* unpacked bytes of the whole walk */
	/* Unpacked bytes of one archive's files over the archive's own size;
	 * judged only past ratio_floor_bytes, so a tiny archive of a
	 * repetitive text is not a bomb. */
	unsigned max_ratio;
	size_t ratio_floor_bytes;
};

/* The defaults: depth 5, 1000 entries, 32 MiB per entry, 64 MiB in all,
 * ratio 200 beyond 1 MiB. */
extern const struct archive_limits archive_default_limits;

#define ARCHIVE_PATH_MAX 1024

/* One file found inside an archive, as the callback sees it (valid only
 * during the call). */
struct archive_file {
	const char *path;          /* "a.zip/b.7z/eicar.com": the outer name, then each entry's */
	const char *name;          /* this entry's own path inside its archive (UTF-8 as stored) */
	const char *data;          /* its unpacked bytes, NUL after them; NULL when encrypted */
	size_t len;
	unsigned depth;            /* 1: a file of the outer archive */
	bool encrypted;
};

/* Called for every file (directories and links are not files); return
 * false to stop the walk. */
typedef bool (*archive_file_fn)(void *arg, const struct archive_file *f);

/* Is buf[0..len) an archive or a compressed stream libarchive reads? */
bool archive_detect(const char *buf, size_t len);

/* Walk buf[0..len), named name (a part's file name; "" for none), with
 * fn for every file inside, recursively to lim->max_depth. Returns the
 * enum archive_finding bits met; 0 also when buf is no archive at all. */
uint32_t archive_walk(const char *buf, size_t len, const char *name, const struct archive_limits *lim,
		      archive_file_fn fn, void *arg);

#endif
