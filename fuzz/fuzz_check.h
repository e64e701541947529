/*
 * Shared by the libFuzzer targets written for issue 14: the contract check
 * (abort, so libFuzzer records the input) and silence for the parsers'
 * log lines (millions of runs would otherwise spend their time writing).
 */
#ifndef MW_FUZZ_CHECK_H
#define MW_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"

#define CHECK(cond)                  \
	do {                         \
		if (!(cond))         \
			abort();     \
	} while (0)

static inline void fuzz_quiet_logs(void)
{
	static int done;
	if (!done)
		log_init("fuzz", LOG_TARGET_STDERR, LOG_FORMAT_KV, LOG_EMERG);
	done = 1;
}

/*
 * For loaders that take a path: the input in a memory file, named by
 * /proc/self/fd/N in path (no disk I/O; one file per process, rewritten
 * each run). Returns 0, or -1 if the file could not be written.
 */
static inline int fuzz_input_path(const void *data, size_t size, char *path, size_t pathlen)
{
	static int fd = -1;
	if (fd < 0)
		fd = memfd_create("fuzz-input", 0);
	if (fd < 0 || ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		return -1;
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return 0;
}

/*
 * For parsers of the TXT strings of one DNS name: data split at NUL bytes
 * into at most max strings in texts. Returns the copy they point into
 * (free it); their number in *n.
 */
static inline char *fuzz_split_nul(const void *data, size_t size, char **texts, size_t max, size_t *n)
{
	char *copy = malloc(size + 1);
	if (!copy)
		abort();
	if (size)
		memcpy(copy, data, size);
	copy[size] = '\0';
	*n = 0;
	for (char *p = copy; p <= copy + size && *n < max; p += strlen(p) + 1)
		texts[(*n)++] = p;
	return copy;
}

/* A message for people: text without control bytes. */
static inline int fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

#endif
