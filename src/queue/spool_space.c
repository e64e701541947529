/*
 * Free space on the spool, measured for the smtpds: see spool_space.h.
 */
#include "queue/spool_space.h"

#include <stdlib.h>
#include <sys/statvfs.h>

#include <event2/event.h>

#include "util/alloc.h"
#include "util/offload.h"

struct spool_space {
	struct offload *workers;
	struct event *tick;
	const char *dir;
	spool_space_cb cb;
	void *arg;
	bool busy;              /* a statvfs is on a worker */
	bool measured_ok;       /* written by the worker while busy, read after */
	uint64_t measured;
	bool known;
	uint64_t free_bytes;    /* the last figure told */
};

static void measure_work(void *arg)
{
	struct spool_space *ss = arg;
	struct statvfs sv;
	ss->measured_ok = statvfs(ss->dir, &sv) == 0;
	ss->measured = ss->measured_ok ? (uint64_t)sv.f_bavail * sv.f_frsize : 0;
}

static bool worth_telling(const struct spool_space *ss, uint64_t now)
{
	if (!ss->known)
		return true;
	uint64_t diff = now > ss->free_bytes ? now - ss->free_bytes : ss->free_bytes - now;
	return diff >= SPOOL_SPACE_STEP;
}

static void measure_done(void *arg)
{
	struct spool_space *ss = arg;
	ss->busy = false;
	if (!ss->measured_ok || !worth_telling(ss, ss->measured))
		return;
	ss->known = true;
	ss->free_bytes = ss->measured;
	ss->cb(ss->arg, ss->free_bytes);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct spool_space *ss = arg;
	if (ss->busy)
		return;  /* the last one still hangs: one at a time */
	ss->busy = true;
	offload_run(ss->workers, measure_work, measure_done, ss);
}

struct spool_space *spool_space_start(struct event_base *base, struct offload *workers, const char *dir,
				      spool_space_cb cb, void *arg)
{
	struct spool_space *ss = xcalloc(1, sizeof(*ss));
	ss->workers = workers;
	ss->dir = dir;
	ss->cb = cb;
	ss->arg = arg;
	ss->tick = event_new(base, -1, EV_PERSIST, on_tick, ss);
	if (!ss->tick) {
		free(ss);
		return NULL;
	}
	event_add(ss->tick, &(struct timeval){ .tv_sec = 1 });
	on_tick(-1, 0, ss);  /* the first figure at once, not a second late */
	return ss;
}

bool spool_space_known(const struct spool_space *ss, uint64_t *free_bytes)
{
	if (!ss || !ss->known)
		return false;
	*free_bytes = ss->free_bytes;
	return true;
}

void spool_space_free(struct spool_space *ss)
{
	if (!ss)
		return;
	event_free(ss->tick);
	free(ss);
}
