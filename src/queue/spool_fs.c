/*
 * The file-per-message spool backend: spool.h's states as directories.
 * Runs in the queue process only, as the queue user.
 *
 * spool_commit() may run in several threads at once (queue.c's commit
 * workers); everything else runs in the queue's main thread. Concurrent
 * commits share the fsync of queue/ (group commit): a commit returns only
 * after an fsync(queue/) that began after its own rename has succeeded, so
 * each message still has fsync(file), rename, fsync(queue/) before its 250,
 * but N messages committed together cost one directory fsync, and their file
 * fsyncs overlap in the block layer instead of queueing behind each other.
 *
 * Done files are recycled: spool_remove() moves queue/<id> to free/ and
 * spool_create() renames one back into tmp/ and truncates it, instead of
 * an unlink and a create. Allocating an inode is the most expensive step of
 * the whole path on ext4 when many were freed in the last seconds (the
 * allocator skips recently deleted inodes one by one). free/ is not a
 * message state: a file in it is never read, only truncated and reused.
 * Recovery keeps what free/ holds and tops it up to SPOOL_FREE_PREALLOC
 * empty files, so that a restarted gateway does not pay the allocations
 * during its first burst of mail.
 */
#include "queue/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"

#define ENVELOPE_READ_MAX (4u << 20)  /* an envelope never exceeds this */
#define SPOOL_FREE_MAX 4096            /* done files kept for reuse */
#define SPOOL_FREE_PREALLOC 4096       /* spare files made at start-up */

struct spool {
	int dir_fd, tmp_fd, queue_fd, corrupt_fd, lock_fd, free_fd;
	/* Names in free/, main thread only. */
	char (*free_names)[QUEUE_ID_LEN + 1];
	size_t n_free;
	/* Group commit of queue/: renames are numbered; synced is the highest
	 * number covered by a successful fsync(queue/). One thread at a time
	 * (syncing) runs the fsync; the others wait for it or run the next. */
	pthread_mutex_t dir_mu;
	pthread_cond_t dir_cv;
	uint64_t renamed, synced;
	bool syncing;
};

/* Returns 0 after an fsync(queue/) that began after rename number seq has
 * succeeded, or -errno if the fsync this thread ran failed. */
static int queue_dir_sync(struct spool *s, uint64_t seq)
{
	int rc = 0;
	pthread_mutex_lock(&s->dir_mu);
	while (s->synced < seq && rc == 0) {
		if (s->syncing) {
			pthread_cond_wait(&s->dir_cv, &s->dir_mu);
			continue;
		}
		s->syncing = true;
		uint64_t covers = s->renamed;  /* every rename numbered so far has returned */
		pthread_mutex_unlock(&s->dir_mu);
		rc = fsync(s->queue_fd) < 0 ? -errno : 0;
		pthread_mutex_lock(&s->dir_mu);
		s->syncing = false;
		if (rc == 0 && covers > s->synced)
			s->synced = covers;
		pthread_cond_broadcast(&s->dir_cv);
	}
	pthread_mutex_unlock(&s->dir_mu);
	return rc;
}

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
	s->dir_fd = s->tmp_fd = s->queue_fd = s->corrupt_fd = s->lock_fd = s->free_fd = -1;
	s->free_names = xcalloc(SPOOL_FREE_MAX, sizeof(*s->free_names));
	pthread_mutex_init(&s->dir_mu, NULL);
	pthread_cond_init(&s->dir_cv, NULL);
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
	s->corrupt_fd = open_subdir(s->dir_fd, "corrupt");
	s->free_fd = open_subdir(s->dir_fd, "free");
	if (s->tmp_fd < 0 || s->queue_fd < 0 || s->corrupt_fd < 0 || s->free_fd < 0)
		goto fail;
	return s;
fail:
	log_event(LOG_ERR, "spool_error", "dir", dir, "msg", strerror(errno), NULL);
	spool_close(s);
	return NULL;
}

void spool_close(struct spool *s)
{
	int *fds[] = { &s->dir_fd, &s->tmp_fd, &s->queue_fd, &s->corrupt_fd, &s->lock_fd, &s->free_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	pthread_mutex_destroy(&s->dir_mu);
	pthread_cond_destroy(&s->dir_cv);
	free(s->free_names);
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

/* A recycled file from free/ as tmp/<e->id>, empty; or -1 (none left, or
 * it did not work: the caller creates a new file). */
static int reuse_free(struct spool *s, const char *id)
{
	while (s->n_free > 0) {
		const char *name = s->free_names[--s->n_free];
		if (renameat2(s->free_fd, name, s->tmp_fd, id, RENAME_NOREPLACE) < 0) {
			unlinkat(s->free_fd, name, 0);
			continue;
		}
		int fd = openat(s->tmp_fd, id, O_RDWR | O_APPEND | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			unlinkat(s->tmp_fd, id, 0);
		return fd;
	}
	return -1;
}

int spool_create(struct spool *s, struct envelope *e)
{
	int fd = -1;
	for (int tries = 0; tries < 8 && fd < 0 && s->n_free > 0; tries++) {
		queue_id_new(e->id);
		if (faccessat(s->queue_fd, e->id, F_OK, 0) == 0)
			continue;
		fd = reuse_free(s, e->id);
	}
	for (int tries = 0; tries < 8 && fd < 0; tries++) {
		queue_id_new(e->id);
		/* The id must be free in queue/ too; commit's NOREPLACE rename checks again. */
		if (faccessat(s->queue_fd, e->id, F_OK, 0) == 0)
			continue;
		fd = openat(s->tmp_fd, e->id, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		log_event(LOG_ERR, "spool_error", "op", "create", "msg", strerror(errno), NULL);
		return -1;
	}
	size_t len;
	unsigned char *rec = envelope_encode(e, &len);
	int rc = write_all(fd, rec, len);
	free(rec);
	if (rc < 0) {
		log_event(LOG_ERR, "spool_error", "op", "write", "queue_id", e->id, "msg", strerror(errno), NULL);
		close(fd);
		unlinkat(s->tmp_fd, e->id, 0);
		return -1;
	}
	return fd;
}

/* May run in several threads at once: touches only fd, e->id and the
 * group-commit state under dir_mu. */
int spool_commit(struct spool *s, const struct envelope *e, int fd, uint64_t expected_size)
{
	struct stat st;
	const char *why = NULL;
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if ((uint64_t)st.st_size != (uint64_t)e->body_offset + expected_size)
		why = "size mismatch between smtpd and spool file";
	else if (fsync(fd) < 0)
		why = strerror(errno);
	else if (renameat2(s->tmp_fd, e->id, s->queue_fd, e->id, RENAME_NOREPLACE) < 0)
		why = strerror(errno);
	if (why) {
		log_event(LOG_ERR, "spool_error", "op", "commit", "queue_id", e->id, "msg", why, NULL);
		unlinkat(s->tmp_fd, e->id, 0);
		return -1;
	}
	pthread_mutex_lock(&s->dir_mu);
	uint64_t seq = ++s->renamed;
	pthread_mutex_unlock(&s->dir_mu);
	int rc = queue_dir_sync(s, seq);
	if (rc < 0) {
		/* The rename may not be durable; the file is in queue/ and will
		 * be delivered, but we must not claim success. */
		log_event(LOG_ERR, "spool_error", "op", "fsync_dir", "queue_id", e->id, "msg", strerror(-rc), NULL);
		return -1;
	}
	return 0;
}

void spool_abort(struct spool *s, const char *id)
{
	if (queue_id_valid(id))
		unlinkat(s->tmp_fd, id, 0);
}

static void move_to_corrupt(struct spool *s, const char *id, const char *why)
{
	log_event(LOG_ERR, "spool_corrupt", "queue_id", id, "msg", why, "moved_to", "corrupt/", NULL);
	if (renameat(s->queue_fd, id, s->corrupt_fd, id) == 0)
		fsync(s->queue_fd);
}

int spool_load(struct spool *s, const char *id, struct envelope *e)
{
	if (!queue_id_valid(id))
		return -1;
	int fd = openat(s->queue_fd, id, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		move_to_corrupt(s, id, "empty or unreadable");
		return -1;
	}
	size_t want = (size_t)st.st_size < ENVELOPE_READ_MAX ? (size_t)st.st_size : ENVELOPE_READ_MAX;
	unsigned char *buf = xmalloc(want);
	ssize_t got = pread(fd, buf, want, 0);
	memset(e, 0, sizeof(*e));
	bool ok = got == (ssize_t)want && envelope_decode(buf, want, e);
	free(buf);
	if (!ok) {
		envelope_clear(e);
		close(fd);
		move_to_corrupt(s, id, "envelope does not decode");
		return -1;
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	return fd;
}

int spool_mark(struct spool *s, int fd, const struct envelope_rcpt *r, char status)
{
	if (pwrite(fd, &status, 1, r->status_offset) != 1 || fdatasync(fd) < 0) {
		log_event(LOG_ERR, "spool_error", "op", "mark", "msg", strerror(errno), NULL);
		return -1;
	}
	return 0;
}

/* QUEUED -> DONE: the file leaves queue/ (into free/ for reuse, or unlinked).
 * Neither step is fsynced, as before: after a crash the message may come
 * back and be delivered once more, never lost. */
int spool_remove(struct spool *s, const char *id)
{
	if (!queue_id_valid(id))
		return -1;
	if (s->n_free < SPOOL_FREE_MAX && renameat2(s->queue_fd, id, s->free_fd, id, RENAME_NOREPLACE) == 0) {
		snprintf(s->free_names[s->n_free++], QUEUE_ID_LEN + 1, "%s", id);
		return 0;
	}
	return unlinkat(s->queue_fd, id, 0) < 0 ? -1 : 0;
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
	void (*found)(const char *id, void *arg);
	void *arg;
};

static void remove_tmp(const char *name, void *arg)
{
	struct recover_ctx *c = arg;
	log_event(LOG_INFO, "cleanup", "file", name, "msg", "never acknowledged, removed", NULL);
	unlinkat(c->s->tmp_fd, name, 0);
}

static void adopt_free(const char *name, void *arg)
{
	struct recover_ctx *c = arg;
	struct spool *s = c->s;
	/* Only a plain file with no other name: a crash in the middle of
	 * spool_remove()'s rename can leave a done message under both names
	 * (fsck keeps both links on a file system without a journal), and
	 * reusing it would rewrite what queue/ still lists. */
	struct stat st;
	if (queue_id_valid(name) && s->n_free < SPOOL_FREE_MAX &&
	    fstatat(s->free_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1)
		memcpy(s->free_names[s->n_free++], name, QUEUE_ID_LEN + 1);  /* valid: exactly QUEUE_ID_LEN */
	else
		unlinkat(s->free_fd, name, 0);
}

static void prealloc_free(struct spool *s)
{
	char name[QUEUE_ID_LEN + 1];
	while (s->n_free < SPOOL_FREE_PREALLOC) {
		queue_id_new(name);
		int fd = openat(s->free_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			log_event(LOG_WARNING, "spool_error", "op", "prealloc", "msg", strerror(errno), NULL);
			return;
		}
		close(fd);
		snprintf(s->free_names[s->n_free++], QUEUE_ID_LEN + 1, "%s", name);
	}
}

static void found_queued(const char *name, void *arg)
{
	struct recover_ctx *c = arg;
	if (queue_id_valid(name))
		c->found(name, c->arg);
	else
		move_to_corrupt(c->s, name, "not a queue id");
}

void spool_recover(struct spool *s, void (*found)(const char *id, void *arg), void *arg)
{
	struct recover_ctx c = { s, found, arg };
	for_each_entry(s->tmp_fd, remove_tmp, &c);
	fsync(s->tmp_fd);
	s->n_free = 0;
	for_each_entry(s->free_fd, adopt_free, &c);  /* recycled files: no message state */
	prealloc_free(s);
	for_each_entry(s->queue_fd, found_queued, &c);
}
