/*
 * See filestamp.h.
 */
#include "util/filestamp.h"

#include "util/fnv.h"

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

uint64_t file_stamp_mix(uint64_t h, const struct file_stamp *st)
{
	h = fnv64_mix(h, &st->exists, sizeof(st->exists));
	if (!st->exists)
		return h;
	h = fnv64_mix(h, &st->dev, sizeof(st->dev));
	h = fnv64_mix(h, &st->ino, sizeof(st->ino));
	h = fnv64_mix(h, &st->size, sizeof(st->size));
	h = fnv64_mix(h, &st->mtime.tv_sec, sizeof(st->mtime.tv_sec));
	return fnv64_mix(h, &st->mtime.tv_nsec, sizeof(st->mtime.tv_nsec));
}

bool stamp_settled(struct stamp_settle *s, uint64_t seen, uint64_t now)
{
	if (now == seen) {
		s->changing = false;  /* changed and back again: nothing to do */
		return false;
	}
	if (!s->changing || s->changed != now) {
		s->changing = true;
		s->changed = now;
		return false;
	}
	s->changing = false;
	return true;
}
