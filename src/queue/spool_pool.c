#include "queue/spool_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/fdlimit.h"
#include "util/log.h"

#define POOL_MAX 16384          /* empty files kept in free/ (an inode each, no data) */
#define POOL_LOW 256            /* below this the tidier makes new ones, ... */
#define POOL_MAKE_BATCH 16      /* ... this many at a time (staging must not wait long) */
#define POOL_STAGED 256         /* files staged in tmp/ for spool_create(), at most */
#define POOL_RETIRED_MAX 16384  /* DONE messages waiting for the tidier */
#define RETIRE_SYNC_WAIT_MS 20  /* a removal waits this long for a commit's fsync of queue/ */

typedef char pool_name[QUEUE_ID_LEN + 1];

struct staged {
	pool_name id;
	int fd;
};

struct spool_pool {
	int free_fd, tmp_fd, queue_fd;
	struct dirsync *queue_sync;
	pthread_mutex_t mu;         /* guards everything below */
	pthread_cond_t wake;        /* the tidier waits here for work */
	pool_name *free_names;      /* empty files in free/ */
	size_t n_free;
	pool_name *retired;         /* DONE messages still in queue/ */
	size_t n_retired;
	struct staged staged[POOL_STAGED];
	size_t n_staged;
	size_t staged_max;          /* staged[] is kept this full (staged_limit()) */
	bool recovered;             /* free/ adopted: the tidier may use it */
	bool make_failed;           /* creating a file failed: none until a removal */
	bool stop;
	pthread_t thread;
	pool_name *batch;           /* the tidier's own copy of retired */
};

/* --- the event loop's side ---------------------------------------------- */

static int stage_one(struct spool_pool *p, const char *reuse, pool_name id);
static void stage_some(struct spool_pool *p);

int spool_pool_take(struct spool_pool *p, char id[QUEUE_ID_LEN + 1])
{
	pool_name reuse;
	bool have_free = false;
	pthread_mutex_lock(&p->mu);
	if (p->n_staged > 0) {
		struct staged *st = &p->staged[--p->n_staged];
		memcpy(id, st->id, sizeof(pool_name));
		int fd = st->fd;
		/* The tidier never sleeps while staging is short of full; wake
		 * it only when half is gone, not for every message. */
		if (p->n_staged == p->staged_max / 2)
			pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->mu);
		return fd;
	}
	if (p->recovered && p->n_free > 0) {
		memcpy(reuse, p->free_names[--p->n_free], sizeof(pool_name));
		have_free = true;
	}
	pthread_mutex_unlock(&p->mu);
	/* The tidier is behind: stage one here, from a free file if there is
	 * one (a rename costs far less than allocating an inode). */
	return stage_one(p, have_free ? reuse : NULL, id);
}

bool spool_pool_retire(struct spool_pool *p, const char *id)
{
	pthread_mutex_lock(&p->mu);
	bool taken = p->n_retired < POOL_RETIRED_MAX;
	if (taken) {
		memcpy(p->retired[p->n_retired++], id, sizeof(pool_name));  /* a valid id: exactly QUEUE_ID_LEN */
		if (p->n_retired == 1)
			pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->mu);
	return taken;
}

/* --- the tidier ----------------------------------------------------------- */

/* Append up to n names to the free list (mu held); the rest are unlinked. */
static void free_add(struct spool_pool *p, const pool_name *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p->n_free < POOL_MAX)
			memcpy(p->free_names[p->n_free++], names[i], sizeof(pool_name));
		else
			unlinkat(p->free_fd, names[i], 0);
	}
}

/* Retired messages: out of queue/, durable, emptied, into the free list.
 * Called and returns with mu held; drops it while it works. */
static void retire_batch(struct spool_pool *p)
{
	size_t n = p->n_retired;
	memcpy(p->batch, p->retired, n * sizeof(pool_name));
	p->n_retired = 0;
	p->make_failed = false;  /* a file system that was full may have room again */
	size_t room = POOL_MAX - p->n_free;
	pthread_mutex_unlock(&p->mu);

	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept < room && renameat2(p->queue_fd, p->batch[i], p->free_fd, p->batch[i], RENAME_NOREPLACE) == 0) {
			log_event(LOG_INFO, "removed", "queue_id", p->batch[i], NULL);
			memmove(p->batch[kept++], p->batch[i], sizeof(pool_name));
		} else if (unlinkat(p->queue_fd, p->batch[i], 0) == 0) {
			log_event(LOG_INFO, "removed", "queue_id", p->batch[i], NULL);
		} else {
			log_event(LOG_ERR, "spool_error", "op", "remove", "queue_id", p->batch[i], "msg", strerror(errno), NULL);
		}
	}
	/* Staging first: the wait below may take a while, and the loop must
	 * not run out of files meanwhile. */
	pthread_mutex_lock(&p->mu);
	if (p->n_staged < p->staged_max)
		stage_some(p);
	pthread_mutex_unlock(&p->mu);
	/* Durable before the file is reused: after a power loss a delivered
	 * message must not come back (it would be delivered again). */
	if (dirsync_wait_lazy(p->queue_sync, dirsync_changed(p->queue_sync), RETIRE_SYNC_WAIT_MS) < 0)
		log_event(LOG_WARNING, "spool_error", "op", "fsync_dir", "msg", "removals not yet durable", NULL);
	size_t emptied = 0;
	for (size_t i = 0; i < kept; i++) {
		int fd = openat(p->free_fd, p->batch[i], O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			unlinkat(p->free_fd, p->batch[i], 0);
			continue;
		}
		close(fd);
		memmove(p->batch[emptied++], p->batch[i], sizeof(pool_name));
	}
	pthread_mutex_lock(&p->mu);
	free_add(p, p->batch, emptied);
}

/* A file in tmp/ under a fresh id, empty and open for spool_create():
 * reuse (a name in free/, consumed either way) or, failing that, a new
 * file. Returns the descriptor or -1 (no file could be made). */
static int stage_one(struct spool_pool *p, const char *reuse, pool_name id)
{
	for (int tries = 0; tries < 8; tries++) {
		queue_id_new(id);
		/* The id must be free in queue/ too; the commit's NOREPLACE rename checks again. */
		if (faccessat(p->queue_fd, id, F_OK, 0) == 0)
			continue;
		if (reuse) {
			if (renameat2(p->free_fd, reuse, p->tmp_fd, id, RENAME_NOREPLACE) < 0) {
				if (errno == EEXIST)
					continue;
				unlinkat(p->free_fd, reuse, 0);
				reuse = NULL;
			} else {
				reuse = NULL;
				int fd = openat(p->tmp_fd, id, O_RDWR | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
				if (fd >= 0)
					return fd;
				unlinkat(p->tmp_fd, id, 0);
				continue;
			}
		}
		int fd = openat(p->tmp_fd, id, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST) {
			log_event(LOG_ERR, "spool_error", "op", "create", "msg", strerror(errno), NULL);
			break;
		}
	}
	if (reuse)
		unlinkat(p->free_fd, reuse, 0);
	return -1;
}

/* Fill the staged files up. mu held on entry and return. */
static void stage_some(struct spool_pool *p)
{
	pool_name reuse[POOL_STAGED];
	size_t want = p->staged_max - p->n_staged, n_reuse = 0;
	while (n_reuse < want && p->n_free > 0)
		memcpy(reuse[n_reuse++], p->free_names[--p->n_free], sizeof(pool_name));
	pthread_mutex_unlock(&p->mu);
	struct staged made[POOL_STAGED];
	size_t n_made = 0;
	bool failed = false;
	for (size_t i = 0; i < want && !failed; i++) {
		made[n_made].fd = stage_one(p, i < n_reuse ? reuse[i] : NULL, made[n_made].id);
		if (made[n_made].fd >= 0)
			n_made++;
		else
			failed = true;
	}
	size_t tried = n_made + failed;  /* stage_one() consumed reuse[0 .. tried) */
	pthread_mutex_lock(&p->mu);
	if (tried < n_reuse)
		free_add(p, &reuse[tried], n_reuse - tried);
	memcpy(&p->staged[p->n_staged], made, n_made * sizeof(*made));
	p->n_staged += n_made;
	p->make_failed |= failed;
}

/* New empty files into free/. mu held on entry and return. */
static void make_some(struct spool_pool *p)
{
	pool_name made[POOL_MAKE_BATCH];
	size_t n = 0;
	bool failed = false;
	pthread_mutex_unlock(&p->mu);
	while (n < POOL_MAKE_BATCH && !failed) {
		queue_id_new(made[n]);
		int fd = openat(p->free_fd, made[n], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			n++;
		} else if (errno != EEXIST) {
			log_event(LOG_WARNING, "spool_error", "op", "prealloc", "msg", strerror(errno), NULL);
			failed = true;
		}
	}
	pthread_mutex_lock(&p->mu);
	p->make_failed |= failed;
	free_add(p, made, n);
}

/* Work in order of urgency: removals (durability, and their files feed
 * the rest), then staging, then stock. */
static void *tidier_main(void *arg)
{
	struct spool_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		bool can_make = p->recovered && !p->make_failed;
		if (p->n_retired > 0)
			retire_batch(p);
		else if (p->recovered && p->n_staged < p->staged_max && (p->n_free > 0 || can_make))
			stage_some(p);
		else if (can_make && p->n_free < POOL_LOW)
			make_some(p);
		else
			pthread_cond_wait(&p->wake, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* --- life cycle ----------------------------------------------------------- */

/* How many files to keep staged. Each is an open descriptor: under a low
 * RLIMIT_NOFILE (issue 14, case 156: ulimit -n 64) a full 256 of them
 * left the queue none for its messages, sockets and databases, every new
 * message failed with EMFILE and the queue lost its channel to the
 * master. A quarter of the limit at most leaves it the rest. */
static size_t staged_limit(rlim_t nofile)
{
	rlim_t quarter = nofile / 4;
	if (quarter >= POOL_STAGED)
		return POOL_STAGED;
	return quarter > 0 ? (size_t)quarter : 1;
}

struct spool_pool *spool_pool_start(int free_fd, int tmp_fd, int queue_fd, struct dirsync *queue_sync)
{
	struct spool_pool *p = xcalloc(1, sizeof(*p));
	p->free_fd = free_fd;
	p->tmp_fd = tmp_fd;
	p->queue_fd = queue_fd;
	p->queue_sync = queue_sync;
	p->staged_max = staged_limit(fdlimit_current());
	p->free_names = xcalloc(POOL_MAX, sizeof(*p->free_names));
	p->retired = xcalloc(POOL_RETIRED_MAX, sizeof(*p->retired));
	p->batch = xcalloc(POOL_RETIRED_MAX, sizeof(*p->batch));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	/* The thread takes no signals: they belong to the event loop. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&p->thread, NULL, tidier_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_event(LOG_ERR, "spool_error", "op", "tidier", "msg", strerror(rc), NULL);
		p->stop = true;
		spool_pool_stop(p);
		return NULL;
	}
	return p;
}

void spool_pool_stop(struct spool_pool *p)
{
	if (!p->stop) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	for (size_t i = 0; i < p->n_staged; i++)
		close(p->staged[i].fd);  /* the files stay in tmp/; recovery gives them back */
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->wake);
	free(p->free_names);
	free(p->retired);
	free(p->batch);
	free(p);
}

void spool_pool_adopt(struct spool_pool *p, const char *name)
{
	/* Only a plain file with no other name: a crash in the middle of a
	 * removal's rename can leave a done message under both names (fsck
	 * keeps both links on a file system without a journal), and reusing
	 * it would rewrite what queue/ still lists. */
	struct stat st;
	pthread_mutex_lock(&p->mu);
	if (queue_id_valid(name) && p->n_free < POOL_MAX &&
	    fstatat(p->free_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1)
		memcpy(p->free_names[p->n_free++], name, sizeof(pool_name));  /* valid: exactly QUEUE_ID_LEN */
	else
		unlinkat(p->free_fd, name, 0);
	pthread_mutex_unlock(&p->mu);
}

void spool_pool_recovered(struct spool_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->recovered = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->mu);
}
