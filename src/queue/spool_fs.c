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
 * spool_create() renames one back into tmp/, instead of an unlink and a
 * create. Allocating an inode is the most expensive step of the whole path
 * on ext4 when many were freed in the last seconds (the allocator skips
 * recently deleted inodes one by one). free/ is not a message state: a file
 * in it is never read, only reused. Recovery keeps what free/ holds and tops
 * it up to SPOOL_FREE_PREALLOC empty files, so that a restarted gateway does
 * not pay the allocations during its first burst of mail.
 *
 * The tidier thread finishes what spool_remove() starts, off the event
 * loop: it makes the removals durable (an fsync of queue/, shared with the
 * group commit), so that a power loss does not bring delivered messages
 * back, and then empties the done files (the delivered text does not linger
 * on disk, and freeing the blocks costs the loop nothing) before they go
 * back to the pool spool_create() takes from.
 */
#include "queue/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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
#define TIDY_SYNC_WAIT_MS 20           /* a removal waits this long for a commit's fsync of queue/ */

typedef char spool_name[QUEUE_ID_LEN + 1];

struct spool {
	int dir_fd, tmp_fd, queue_fd, hold_fd, corrupt_fd, lock_fd, free_fd;
	int quarantine_fd, released_fd;
	/* free/: names ready for reuse, and done files the tidier has not
	 * finished yet; both under free_mu. */
	pthread_mutex_t free_mu;
	pthread_cond_t tidy_cv;
	spool_name *free_names, *done_names;
	size_t n_free, n_done;
	uint64_t removed;        /* the last removal's change number, 0 once the tidier has it */
	bool tidier_started, tidier_stop;
	pthread_t tidier;
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

/* Like queue_dir_sync(), for a change nobody waits on: gives the group
 * commit up to wait_ms to cover it with an fsync it runs anyway, so that
 * under load removals cost no flush of their own. */
static int queue_dir_sync_lazy(struct spool *s, uint64_t seq, long wait_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += wait_ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&s->dir_mu);
	while (s->synced < seq && pthread_cond_timedwait(&s->dir_cv, &s->dir_mu, &until) == 0)
		;
	bool covered = s->synced >= seq;
	pthread_mutex_unlock(&s->dir_mu);
	return covered ? 0 : queue_dir_sync(s, seq);
}

/* Numbers a change of queue/ that has returned (a rename into or out of it). */
static uint64_t queue_dir_changed(struct spool *s)
{
	pthread_mutex_lock(&s->dir_mu);
	uint64_t seq = ++s->renamed;
	pthread_mutex_unlock(&s->dir_mu);
	return seq;
}

/* The tidier: removals durable first, then the done files emptied and
 * handed back to the pool. */
static void *tidier_main(void *arg)
{
	struct spool *s = arg;
	spool_name *batch = xcalloc(SPOOL_FREE_MAX, sizeof(*batch));
	pthread_mutex_lock(&s->free_mu);
	while (!s->tidier_stop) {
		if (s->n_done == 0 && s->removed == 0) {
			pthread_cond_wait(&s->tidy_cv, &s->free_mu);
			continue;
		}
		size_t n = s->n_done;
		memcpy(batch, s->done_names, n * sizeof(*batch));
		uint64_t seq = s->removed;
		s->n_done = 0;
		s->removed = 0;
		pthread_mutex_unlock(&s->free_mu);
		if (seq && queue_dir_sync_lazy(s, seq, TIDY_SYNC_WAIT_MS) < 0)
			log_event(LOG_WARNING, "spool_error", "op", "fsync_dir", "msg", "removals not yet durable", NULL);
		size_t kept = 0;
		for (size_t i = 0; i < n; i++) {
			int fd = openat(s->free_fd, batch[i], O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				close(fd);
				memcpy(batch[kept++], batch[i], sizeof(*batch));
			} else {
				unlinkat(s->free_fd, batch[i], 0);
			}
		}
		pthread_mutex_lock(&s->free_mu);
		for (size_t i = 0; i < kept; i++) {
			if (s->n_free < SPOOL_FREE_MAX)
				memcpy(s->free_names[s->n_free++], batch[i], sizeof(*batch));
			else
				unlinkat(s->free_fd, batch[i], 0);  /* the pool is full */
		}
	}
	pthread_mutex_unlock(&s->free_mu);
	free(batch);
	return NULL;
}

static bool tidier_start(struct spool *s)
{
	/* The thread takes no signals: they belong to the event loop. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	s->tidier_started = pthread_create(&s->tidier, NULL, tidier_main, s) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return s->tidier_started;
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
	s->dir_fd = s->tmp_fd = s->queue_fd = s->hold_fd = s->corrupt_fd = s->lock_fd = s->free_fd = -1;
	s->quarantine_fd = s->released_fd = -1;
	s->free_names = xcalloc(SPOOL_FREE_MAX, sizeof(*s->free_names));
	s->done_names = xcalloc(SPOOL_FREE_MAX, sizeof(*s->done_names));
	pthread_mutex_init(&s->dir_mu, NULL);
	pthread_condattr_t monotonic;
	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
	pthread_cond_init(&s->dir_cv, &monotonic);
	pthread_condattr_destroy(&monotonic);
	pthread_mutex_init(&s->free_mu, NULL);
	pthread_cond_init(&s->tidy_cv, NULL);
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
	if (!tidier_start(s))
		goto fail;
	return s;
fail:
	log_event(LOG_ERR, "spool_error", "dir", dir, "msg", strerror(errno), NULL);
	spool_close(s);
	return NULL;
}

void spool_close(struct spool *s)
{
	if (s->tidier_started) {
		pthread_mutex_lock(&s->free_mu);
		s->tidier_stop = true;
		pthread_cond_signal(&s->tidy_cv);
		pthread_mutex_unlock(&s->free_mu);
		pthread_join(s->tidier, NULL);
	}
	int *fds[] = { &s->dir_fd, &s->tmp_fd, &s->queue_fd, &s->hold_fd, &s->corrupt_fd, &s->lock_fd,
		       &s->quarantine_fd, &s->released_fd, &s->free_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	pthread_mutex_destroy(&s->dir_mu);
	pthread_cond_destroy(&s->dir_cv);
	pthread_mutex_destroy(&s->free_mu);
	pthread_cond_destroy(&s->tidy_cv);
	free(s->free_names);
	free(s->done_names);
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
static bool take_free(struct spool *s, spool_name name)
{
	pthread_mutex_lock(&s->free_mu);
	bool got = s->n_free > 0;
	if (got)
		memcpy(name, s->free_names[--s->n_free], sizeof(spool_name));
	pthread_mutex_unlock(&s->free_mu);
	return got;
}

static int reuse_free(struct spool *s, const char *id)
{
	spool_name name;
	while (take_free(s, name)) {
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

static bool spool_free_available(struct spool *s)
{
	pthread_mutex_lock(&s->free_mu);
	bool any = s->n_free > 0;
	pthread_mutex_unlock(&s->free_mu);
	return any;
}

int spool_create(struct spool *s, struct envelope *e)
{
	int fd = -1;
	for (int tries = 0; tries < 8 && fd < 0 && spool_free_available(s); tries++) {
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

static int commit_into(struct spool *s, const struct envelope *e, int fd, uint64_t expected_size, int dest_fd);

/* May run in several threads at once: touches only fd, e->id and the
 * group-commit state under dir_mu. */
int spool_commit(struct spool *s, const struct envelope *e, int fd, uint64_t expected_size)
{
	return commit_into(s, e, fd, expected_size, s->queue_fd);
}

int spool_commit_quarantine(struct spool *s, const struct envelope *e, int fd, uint64_t expected_size)
{
	return commit_into(s, e, fd, expected_size, s->quarantine_fd);
}

static int commit_into(struct spool *s, const struct envelope *e, int fd, uint64_t expected_size, int dest_fd)
{
	struct stat st;
	const char *why = NULL;
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if ((uint64_t)st.st_size != (uint64_t)e->body_offset + expected_size)
		why = "size mismatch between smtpd and spool file";
	else if (fsync(fd) < 0)
		why = strerror(errno);
	else if (renameat2(s->tmp_fd, e->id, dest_fd, e->id, RENAME_NOREPLACE) < 0)
		why = strerror(errno);
	if (why) {
		log_event(LOG_ERR, "spool_error", "op", "commit", "queue_id", e->id, "msg", why, NULL);
		unlinkat(s->tmp_fd, e->id, 0);
		return -1;
	}
	/* queue/ is synced by the group commit (one fsync for every rename
	 * before it); quarantine/ is rare and synced on its own. */
	int rc;
	if (dest_fd == s->queue_fd)
		rc = queue_dir_sync(s, queue_dir_changed(s));
	else {
		rc = fsync(dest_fd) < 0 ? -errno : 0;
	}
	if (rc < 0) {
		/* The rename may not be durable; the file is in its directory and
		 * will be delivered, but we must not claim success. */
		log_event(LOG_ERR, "spool_error", "op", "fsync_dir", "queue_id", e->id, "msg", strerror(-rc), NULL);
		return -1;
	}
	/* The file was written through a descriptor shared with smtpd and
	 * opened O_APPEND; on Linux pwrite() on such a descriptor ignores its
	 * offset and appends, so spool_mark() would add status bytes to the
	 * end of the message instead of rewriting them in place. The queue
	 * goes on with a private descriptor of its own (same fd number), so
	 * neither the flag nor anything smtpd still holds touches it. */
	int own = openat(dest_fd, e->id, O_RDWR | O_CLOEXEC);
	if (own < 0 || dup3(own, fd, O_CLOEXEC) < 0)
		log_event(LOG_ERR, "spool_error", "op", "reopen", "queue_id", e->id, "msg", strerror(errno), NULL);
	if (own >= 0)
		close(own);
	return 0;
}

int spool_inject(struct spool *s, struct envelope *e, const void *data, size_t len)
{
	int fd = spool_create(s, e);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || spool_commit(s, e, fd, len) < 0) {
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
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		move_to_corrupt(s, dfd, id, "empty or unreadable");
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
		move_to_corrupt(s, dfd, id, "envelope does not decode");
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

/* The tidier makes the removal durable and empties the file. */
static void removed_from_queue(struct spool *s, const char *id_in_free)
{
	uint64_t seq = queue_dir_changed(s);
	pthread_mutex_lock(&s->free_mu);
	s->removed = seq;
	if (id_in_free)
		memcpy(s->done_names[s->n_done++], id_in_free, sizeof(spool_name));
	pthread_cond_signal(&s->tidy_cv);
	pthread_mutex_unlock(&s->free_mu);
}

static bool pool_has_room(struct spool *s)
{
	pthread_mutex_lock(&s->free_mu);
	bool room = s->n_free + s->n_done < SPOOL_FREE_MAX;
	pthread_mutex_unlock(&s->free_mu);
	return room;
}

/* QUEUED -> DONE: the file leaves queue/ (into free/ for reuse, or unlinked;
 * a held message is unlinked from hold/). The tidier makes the step
 * durable soon after; until then a power loss may bring the message back,
 * and it is delivered once more, never lost. */
int spool_remove(struct spool *s, const char *id, bool held)
{
	if (!queue_id_valid(id))
		return -1;
	if (held)
		return unlinkat(s->hold_fd, id, 0) < 0 ? -1 : 0;
	if (pool_has_room(s) && renameat2(s->queue_fd, id, s->free_fd, id, RENAME_NOREPLACE) == 0) {
		removed_from_queue(s, id);
		return 0;
	}
	if (unlinkat(s->queue_fd, id, 0) < 0)
		return -1;
	removed_from_queue(s, NULL);
	return 0;
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
		c->found(name, c->held, c->arg);
	else
		move_to_corrupt(c->s, c->held ? c->s->hold_fd : c->s->queue_fd, name, "not a queue id");
}

void spool_recover(struct spool *s, void (*found)(const char *id, bool held, void *arg), void *arg)
{
	struct recover_ctx c = { s, found, arg, false };
	for_each_entry(s->tmp_fd, remove_tmp, &c);
	fsync(s->tmp_fd);
	/* Before any removal: the tidier is idle and the pool is ours. */
	s->n_free = 0;
	for_each_entry(s->free_fd, adopt_free, &c);  /* recycled files: no message state */
	prealloc_free(s);
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

void spool_take_released(struct spool *s, void (*found)(const char *id, void *arg), void *arg)
{
	struct release_ctx c = { s, found, arg };
	for_each_entry(s->released_fd, take_one, &c);
}
