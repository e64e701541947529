/*
 * See filestamp.h.
 */
#include "util/filestamp.h"

struct file_stamp file_stamp_of(const struct stat *st)
{
	return (struct file_stamp){ .exists = true, .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
				    .mtime = st->st_mtim };
}

struct file_stamp file_stamp_take(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) != 0)
		return (struct file_stamp){ .exists = false };
	return file_stamp_of(&st);
}

bool file_stamp_same(const struct file_stamp *a, const struct file_stamp *b)
{
	if (a->exists != b->exists)
		return false;
	return !a->exists || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
			      a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec);
}
