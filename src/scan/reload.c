/*
 * See reload.h. The worker thread touches nothing but its batch and the
 * data it builds (scan_data_load_fds logs nothing there); it reports
 * through a pipe that the event loop watches.
 */
#include "scan/reload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "scan/data.h"
#include "scan/policy.h"
#include "util/alloc.h"
#include "util/log.h"

struct batch {
	int fds[SCAN_FILES_MAX];
	size_t n, total;
};

static const struct config *config;
static struct batch incoming;        /* being received */
static struct batch *waiting;        /* complete, for the next build */
static struct {
	bool busy;
	pthread_t thread;
	struct batch *batch;
	struct scan_data *result;
	int pipe[2];
	struct event *ev;
} worker = { .pipe = { -1, -1 } };

static void batch_close(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->fds[i] >= 0)
			close(b->fds[i]);
	b->n = b->total = 0;
}

static void *work(void *arg)
{
	worker.result = scan_data_load_fds(config->scan, worker.batch->fds, worker.batch->n);
	char c = 'x';
	while (write(worker.pipe[1], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void start(void)
{
	if (worker.busy || !waiting)
		return;
	worker.batch = waiting;
	waiting = NULL;
	worker.busy = true;
	if (pthread_create(&worker.thread, NULL, work, NULL) != 0) {
		log_event(LOG_ERR, "scan_reload_error", "msg", "no worker thread; keeping the loaded files", NULL);
		batch_close(worker.batch);
		free(worker.batch);
		worker.busy = false;
	}
}

static void on_built(evutil_socket_t fd, short what, void *arg)
{
	char c;
	if (read(fd, &c, 1) != 1)
		return;
	pthread_join(worker.thread, NULL);
	scan_data_log(worker.result, config->scan);
	/* Fail closed (issue 16): a file that is not optional and cannot be
	 * read now keeps what was loaded before in force, all of it. */
	const char *missing = scan_data_missing_required(worker.result, config->scan);
	if (missing) {
		log_event(LOG_ERR, "scan_reload_failed", "file", missing, "msg",
			  "cannot load a required scanner file; the previous contents stay in force", NULL);
		scan_data_free(worker.result);
	} else {
		scan_replace_data(worker.result);
		log_event(LOG_INFO, "scan_files_reloaded", "files", log_u64(worker.batch->n), NULL);
	}
	batch_close(worker.batch);
	free(worker.batch);
	worker.batch = NULL;
	worker.result = NULL;
	worker.busy = false;
	start();
}

void scan_reload_init(struct event_base *base, const struct config *c)
{
	config = c;
	if (!c->scan || pipe2(worker.pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	worker.ev = event_new(base, worker.pipe[0], EV_READ | EV_PERSIST, on_built, NULL);
	event_add(worker.ev, NULL);
}

void scan_reload_file(uint32_t index, uint32_t total, int fd)
{
	if (!config || !config->scan || !worker.ev) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (index == 0)
		batch_close(&incoming);
	if (index != incoming.n || total == 0 || total > SCAN_FILES_MAX || (index > 0 && total != incoming.total)) {
		log_event(LOG_WARNING, "scan_reload_error", "msg", "file batch out of order; dropped", NULL);
		if (fd >= 0)
			close(fd);
		batch_close(&incoming);
		return;
	}
	incoming.total = total;
	incoming.fds[incoming.n++] = fd;
	if (incoming.n < total)
		return;
	if (waiting) {
		batch_close(waiting);
		free(waiting);
	}
	waiting = xmalloc(sizeof(*waiting));
	*waiting = incoming;
	incoming.n = incoming.total = 0;
	start();
}
