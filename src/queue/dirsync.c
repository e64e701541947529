#include "queue/dirsync.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

void dirsync_init(struct dirsync *d, int fd)
{
	*d = (struct dirsync){ .fd = fd };
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_t monotonic;
	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &monotonic);
	pthread_condattr_destroy(&monotonic);
}

void dirsync_destroy(struct dirsync *d)
{
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
}

uint64_t dirsync_changed(struct dirsync *d)
{
	pthread_mutex_lock(&d->mu);
	uint64_t seq = ++d->changed;
	pthread_mutex_unlock(&d->mu);
	return seq;
}

int dirsync_wait(struct dirsync *d, uint64_t seq)
{
	int rc = 0;
	pthread_mutex_lock(&d->mu);
	while (d->synced < seq && rc == 0) {
		if (d->syncing) {
			pthread_cond_wait(&d->cv, &d->mu);
			continue;
		}
		d->syncing = true;
		uint64_t covers = d->changed;  /* every change numbered so far has returned */
		pthread_mutex_unlock(&d->mu);
		rc = fsync(d->fd) < 0 ? -errno : 0;
		pthread_mutex_lock(&d->mu);
		d->syncing = false;
		if (rc == 0 && covers > d->synced)
			d->synced = covers;
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

int dirsync_wait_lazy(struct dirsync *d, uint64_t seq, long wait_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += wait_ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&d->mu);
	while (d->synced < seq && pthread_cond_timedwait(&d->cv, &d->mu, &until) == 0)
		;
	bool covered = d->synced >= seq;
	pthread_mutex_unlock(&d->mu);
	return covered ? 0 : dirsync_wait(d, seq);
}
