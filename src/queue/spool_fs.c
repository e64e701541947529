/*
 * The file-per-message spool backend: spool.h's states as directories.
 * Runs in the queue process only, as the queue user.
 *
 * spool_commit() may run in several threads at once (queue.c's commit
 * workers); everything else runs in the queue's main thread. Concurrent
 * commits share the fsync of queue/ (group commit, dirsync.h): a commit
 * returns only after an fsync(queue/) that began after its own rename has
 * succeeded, so each message still has fsync(file), rename, fsync(queue/)
 * before its 250, but N messages committed together cost one directory
 * fsync, and their file fsyncs overlap in the block layer instead of
 * queueing behind each other.
 *
 * Files are recycled through free/ by spool_pool.c, whose tidier thread
 * also does the directory work of creating and removing messages, so the
 * event loop only writes and reads.
 */
#include "queue/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "queue/dirsync.h"
#include "queue/spool_pool.h"
#include "util/alloc.h"
#include "util/log.h"


struct spool {
	int dir_fd, tmp_fd, queue_fd, hold_fd, corrupt_fd, lock_fd, free_fd;
	int quarantine_fd, released_fd;
	struct dirsync queue_sync;  /* group commit of queue/ */
	bool queue_sync_ready;
	struct spool_pool *pool;
};

static int open_subdir(int parent, const char *name)
{
	if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int lock_spool(int dir_fd, unsigned wait)
{
	int fd = openat(dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	for (unsigned tries = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; tries++) {
		if (errno != EWOULDBLOCK || tries >= wait * 10) {
			close(fd);
			return -1;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	return fd;
}

struct spool *spool_open(const char *dir, unsigned lock_wait)
{
	struct spool *s = xcalloc(1, sizeof(*s));
	s->dir_fd = s->tmp_fd = s->queue_fd = s->hold_fd = s->corrupt_fd = s->lock_fd = s->free_fd = -1;
	s->quarantine_fd = s->released_fd = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0)
		goto fail;
	s->lock_fd = lock_spool(s->dir_fd, lock_wait);
	if (s->lock_fd < 0)
		goto fail;
	s->tmp_fd = open_subdir(s->dir_fd, "tmp");
	s->queue_fd = open_subdir(s->dir_fd, "queue");
	s->hold_fd = open_subdir(s->dir_fd, "hold");
	s->corrupt_fd = open_subdir(s->dir_fd, "corrupt");
	s->quarantine_fd = open_subdir(s->dir_fd, "quarantine");
	s->released_fd = open_subdir(s->dir_fd, "released");
	s->free_fd = open_subdir(s->dir_fd, "free");
	if (s->tmp_fd < 0 || s->queue_fd < 0 || s->hold_fd < 0 || s->corrupt_fd < 0 || s->quarantine_fd < 0 ||
	    s->released_fd < 0 || s->free_fd < 0)
		goto fail;
	dirsync_init(&s->queue_sync, s->queue_fd);
	s->queue_sync_ready = true;
	s->pool = spool_pool_start(s->free_fd, s->tmp_fd, s->queue_fd, &s->queue_sync);
	if (!s->pool)
		goto fail;
	return s;
fail:
	log_event(LOG_ERR, "spool_error", "dir", dir, "msg", strerror(errno), NULL);
	spool_close(s);
	return NULL;
}

void spool_close(struct spool *s)
{
	if (s->pool)
		spool_pool_stop(s->pool);
	int *fds[] = { &s->dir_fd, &s->tmp_fd, &s->queue_fd, &s->hold_fd, &s->corrupt_fd, &s->lock_fd,
		       &s->quarantine_fd, &s->released_fd, &s->free_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	if (s->queue_sync_ready)
		dirsync_destroy(&s->queue_sync);
	free(s);
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int spool_create(struct spool *s, struct envelope *e)
{
	int fd = spool_pool_take(s->pool, e->id);
	if (fd < 0) {
		log_event(LOG_ERR, "spool_error", "op", "create", "msg", "no spool file could be made", NULL);
		return -1;
	}
	size_t len;
	unsigned char *rec = envelope_encode(e, &len);
	int rc = write_all(fd, rec, len);
	free(rec);
	if (rc < 0) {
		int err = errno;   /* the caller tells ENOSPC apart */
		log_event(LOG_ERR, "spool_error", "op", "write", "queue_id", e->id, "msg", strerror(err), NULL);
		close(fd);
		unlinkat(s->tmp_fd, e->id, 0);
		errno = err;
		return -1;
	}
	return fd;
}

static int commit_into(struct spool *s, const struct envelope *e, int fd, uint64_t body_len, int dest_fd);

/* May run in several threads at once: touches only fd, e->id and the
 * group-commit state (dirsync.h). */
int spool_commit(struct spool *s, const struct envelope *e, int fd, uint64_t body_len)
{
	return commit_into(s, e, fd, body_len, s->queue_fd);
}

int spool_commit_quarantine(struct spool *s, const struct envelope *e, int fd, uint64_t body_len)
{
	return commit_into(s, e, fd, body_len, s->quarantine_fd);
}

static int commit_into(struct spool *s, const struct envelope *e, int fd, uint64_t body_len, int dest_fd)
{
	struct stat st;
	const char *why = NULL;
	size_t tlen;
	unsigned char *trailer = envelope_encode_trailer(e, body_len, &tlen);
	off_t at = e->body_offset + (off_t)body_len;
	if (pwrite(fd, trailer, tlen, at) != (ssize_t)tlen)
		why = strerror(errno ? errno : EIO);
	else if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if ((uint64_t)st.st_size != (uint64_t)at + tlen)
		why = "spool file size does not match the message";
	else if (fsync(fd) < 0)
		why = strerror(errno);
	else if (renameat2(s->tmp_fd, e->id, dest_fd, e->id, RENAME_NOREPLACE) < 0)
		why = strerror(errno);
	free(trailer);
	if (why) {
		log_event(LOG_ERR, "spool_error", "op", "commit", "queue_id", e->id, "msg", why, NULL);
		unlinkat(s->tmp_fd, e->id, 0);
		return -1;
	}
	/* queue/ is synced by the group commit (one fsync for every rename
	 * before it); quarantine/ is rare and synced on its own. */
	int rc;
	if (dest_fd == s->queue_fd)
		rc = dirsync_wait(&s->queue_sync, dirsync_changed(&s->queue_sync));
	else
		rc = fsync(dest_fd) < 0 ? -errno : 0;
	if (rc < 0) {
		/* The rename may not be durable, so the client gets no 250 and
		 * will send the message again. Then this copy must not be
		 * delivered too (Postfix's cleanup removes its queue file the same
		 * way): a 4xx means "not taken". Should the removal not reach the
		 * disk either, a crash can bring the file back: one duplicate at
		 * most, never a loss. */
		bool removed = unlinkat(dest_fd, e->id, 0) == 0;
		if (removed)
			(void)fsync(dest_fd);
		log_event(LOG_ERR, "spool_error", "op", "fsync_dir", "queue_id", e->id, "msg", strerror(-rc), "action",
			  removed ? "removed, the client's retry brings it again" : "could not remove it", NULL);
		return -1;
	}
	return 0;
}

int spool_replace_message(struct spool *s, const struct envelope *e, int fd, int src, uint64_t len)
{
	const char *why = NULL;
	void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, src, 0) : NULL;
	if (map == MAP_FAILED) {
		why = strerror(errno);
	} else {
		for (uint64_t done = 0; done < len && !why;) {
			ssize_t n = pwrite(fd, (char *)map + done, len - done, e->body_offset + (off_t)done);
			if (n > 0)
				done += (uint64_t)n;
			else if (n == 0 || errno != EINTR)
				why = strerror(n == 0 ? EIO : errno);
		}
		if (!why && ftruncate(fd, e->body_offset + (off_t)len) < 0)
			why = strerror(errno);
		if (map)
			munmap(map, len);
	}
	if (why) {
		log_event(LOG_ERR, "spool_error", "op", "replace_message", "queue_id", e->id, "msg", why, NULL);
		unlinkat(s->tmp_fd, e->id, 0);
		return -1;
	}
	return 0;
}

int spool_inject(struct spool *s, struct envelope *e, const void *data, size_t len)
{
	int fd = spool_create(s, e);
	if (fd < 0)
		return -1;
	e->body_end = e->body_offset + (off_t)len;
	if (pwrite(fd, data, len, e->body_offset) != (ssize_t)len || spool_commit(s, e, fd, len) < 0) {
		log_event(LOG_ERR, "spool_error", "op", "inject", "queue_id", e->id, "msg", strerror(errno), NULL);
		close(fd);
		unlinkat(s->tmp_fd, e->id, 0);
		return -1;
	}
	return fd;
}

void spool_abort(struct spool *s, const char *id)
{
	if (queue_id_valid(id))
		unlinkat(s->tmp_fd, id, 0);
}

static void move_to_corrupt(struct spool *s, int from_fd, const char *id, const char *why)
{
	log_event(LOG_ERR, "spool_corrupt", "queue_id", id, "msg", why, "moved_to", "corrupt/", NULL);
	if (renameat(from_fd, id, s->corrupt_fd, id) == 0)
		fsync(from_fd);
}

/* One rename between state directories, made durable (both directories). */
static int move(int from_fd, int to_fd, const char *id)
{
	if (!queue_id_valid(id) || renameat2(from_fd, id, to_fd, id, RENAME_NOREPLACE) < 0)
		return -1;
	if (fsync(to_fd) < 0 || fsync(from_fd) < 0)
		return -1;
	return 0;
}

int spool_open_msg(struct spool *s, const char *id, bool held)
{
	if (!queue_id_valid(id))
		return -1;
	return openat(held ? s->hold_fd : s->queue_fd, id, O_RDWR | O_CLOEXEC);
}

int spool_hold(struct spool *s, const char *id)
{
	return move(s->queue_fd, s->hold_fd, id);
}

int spool_release(struct spool *s, const char *id)
{
	return move(s->hold_fd, s->queue_fd, id);
}

int spool_mark_warned(struct spool *s, int fd, const struct envelope *e)
{
	char w = 'W';
	if (e->warn_offset <= 0)
		return -1;
	if (pwrite(fd, &w, 1, e->warn_offset) != 1 || fdatasync(fd) < 0)
		return -1;
	return 0;
}

int spool_load(struct spool *s, const char *id, bool held, struct envelope *e)
{
	if (!queue_id_valid(id))
		return -1;
	int dfd = held ? s->hold_fd : s->queue_fd;
	int fd = openat(dfd, id, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (!envelope_read(fd, e)) {
		envelope_clear(e);
		close(fd);
		move_to_corrupt(s, dfd, id, "envelope or trailer does not decode (torn or cut-off file)");
		return -1;
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	return fd;
}

int spool_mark(struct spool *s, int fd, const struct envelope_rcpt *r, char status)
{
	if (pwrite(fd, &status, 1, r->status_offset) != 1) {
		log_event(LOG_ERR, "spool_error", "op", "mark", "msg", strerror(errno), NULL);
		return -1;
	}
	return 0;
}

int spool_sync_marks(struct spool *s, int fd)
{
	if (fdatasync(fd) < 0) {
		log_event(LOG_ERR, "spool_error", "op", "sync_marks", "msg", strerror(errno), NULL);
		return -1;
	}
	return 0;
}

/* QUEUED -> DONE: the tidier takes the file out of queue/ and makes that
 * durable a moment later (a held message is unlinked from hold/). Until
 * then a crash may bring the message back; its recipients are marked, and
 * after a power loss it may be delivered once more, never lost. */
int spool_remove(struct spool *s, const char *id, bool held)
{
	if (!queue_id_valid(id))
		return -1;
	if (held)
		return unlinkat(s->hold_fd, id, 0) < 0 ? -1 : 0;
	if (spool_pool_retire(s->pool, id))
		return 0;
	/* The tidier's list is full: unlink here; the next group commit's
	 * fsync of queue/ makes it durable. */
	if (unlinkat(s->queue_fd, id, 0) < 0)
		return -1;
	dirsync_changed(&s->queue_sync);
	log_event(LOG_INFO, "removed", "queue_id", id, NULL);
	return 0;
}

int spool_delete(struct spool *s, const char *id, bool held)
{
	if (!queue_id_valid(id))
		return -1;
	if (held)
		return unlinkat(s->hold_fd, id, 0) < 0 || fsync(s->hold_fd) < 0 ? -1 : 0;
	if (unlinkat(s->queue_fd, id, 0) < 0)
		return -1;
	return dirsync_wait(&s->queue_sync, dirsync_changed(&s->queue_sync)) < 0 ? -1 : 0;
}

static void for_each_entry(int dir_fd, void (*fn)(const char *name, void *arg), void *arg)
{
	int fd = dup(dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		if (de->d_name[0] != '.')
			fn(de->d_name, arg);
	closedir(d);
}

struct recover_ctx {
	struct spool *s;
	void (*found)(const char *id, bool held, void *arg);
	void *arg;
	bool held;
};

static void remove_tmp(const char *name, void *arg)
{
	struct recover_ctx *c = arg;
	/* An empty file never held a message (spool_create() writes the
	 * envelope at once): one the tidier had staged. Back into free/. */
	struct stat st;
	if (queue_id_valid(name) && fstatat(c->s->tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == 0 &&
	    renameat2(c->s->tmp_fd, name, c->s->free_fd, name, RENAME_NOREPLACE) == 0)
		return;
	log_event(LOG_INFO, "cleanup", "file", name, "msg", "never acknowledged, removed", NULL);
	unlinkat(c->s->tmp_fd, name, 0);
}

static void adopt_free(const char *name, void *arg)
{
	struct recover_ctx *c = arg;
	spool_pool_adopt(c->s->pool, name);
}

static void found_queued(const char *name, void *arg)
{
	struct recover_ctx *c = arg;
	if (queue_id_valid(name))
		c->found(name, c->held, c->arg);
	else
		move_to_corrupt(c->s, c->held ? c->s->hold_fd : c->s->queue_fd, name, "not a queue id");
}

void spool_recover(struct spool *s, void (*found)(const char *id, bool held, void *arg), void *arg)
{
	struct recover_ctx c = { s, found, arg, false };
	for_each_entry(s->tmp_fd, remove_tmp, &c);
	fsync(s->tmp_fd);
	/* Recycled files: no message state. The tidier leaves the pool alone
	 * until it is adopted, then keeps it stocked in the background. */
	for_each_entry(s->free_fd, adopt_free, &c);
	spool_pool_recovered(s->pool);
	for_each_entry(s->queue_fd, found_queued, &c);
	c.held = true;
	for_each_entry(s->hold_fd, found_queued, &c);
}

struct release_ctx {
	struct spool *s;
	void (*found)(const char *id, void *arg);
	void *arg;
};

static void take_one(const char *name, void *arg)
{
	struct release_ctx *c = arg;
	if (!queue_id_valid(name))
		return;
	if (renameat2(c->s->released_fd, name, c->s->queue_fd, name, RENAME_NOREPLACE) < 0 ||
	    fsync(c->s->queue_fd) < 0) {
		log_event(LOG_ERR, "spool_error", "op", "release", "queue_id", name, "msg", strerror(errno), NULL);
		return;
	}
	log_event(LOG_INFO, "released", "queue_id", name, NULL);
	c->found(name, c->arg);
}

int spool_open_quarantined(struct spool *s, const char *id, bool writable)
{
	if (!queue_id_valid(id))
		return -1;
	return openat(s->quarantine_fd, id, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
}

int spool_delete_quarantined(struct spool *s, const char *id)
{
	if (!queue_id_valid(id) || unlinkat(s->quarantine_fd, id, 0) < 0 || fsync(s->quarantine_fd) < 0)
		return -1;
	return 0;
}

struct quarantined_ctx {
	void (*found)(const char *id, void *arg);
	void *arg;
};

static void found_quarantined(const char *name, void *arg)
{
	struct quarantined_ctx *c = arg;
	if (queue_id_valid(name))
		c->found(name, c->arg);
}

void spool_each_quarantined(struct spool *s, void (*found)(const char *id, void *arg), void *arg)
{
	struct quarantined_ctx c = { found, arg };
	for_each_entry(s->quarantine_fd, found_quarantined, &c);
}

void spool_take_released(struct spool *s, void (*found)(const char *id, void *arg), void *arg)
{
	struct release_ctx c = { s, found, arg };
	for_each_entry(s->released_fd, take_one, &c);
}
