/*
 * See offload.h.
 */
#include "util/offload.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "util/alloc.h"

struct offload_job {
	TAILQ_ENTRY(offload_job) link;
	void (*work)(void *arg);
	void (*done)(void *arg);
	void *arg;
};

TAILQ_HEAD(offload_list, offload_job);

struct offload {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct offload_list todo, done;
	int wake[2];
	struct event *wake_ev;
	pthread_t threads[OFFLOAD_THREADS_MAX];
	unsigned n_threads;
	bool quit;            /* workers return once todo is empty (offload_free) */
};

static void *worker(void *arg)
{
	struct offload *o = arg;
	pthread_mutex_lock(&o->mu);
	for (;;) {
		struct offload_job *j = TAILQ_FIRST(&o->todo);
		if (!j && o->quit)
			break;
		if (!j) {
			pthread_cond_wait(&o->cv, &o->mu);
			continue;
		}
		TAILQ_REMOVE(&o->todo, j, link);
		pthread_mutex_unlock(&o->mu);
		j->work(j->arg);
		pthread_mutex_lock(&o->mu);
		bool was_empty = TAILQ_EMPTY(&o->done);
		TAILQ_INSERT_TAIL(&o->done, j, link);
		if (was_empty)
			(void)!write(o->wake[1], "", 1);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct offload *o = arg;
	char buf[64];
	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	struct offload_list done = TAILQ_HEAD_INITIALIZER(done);
	pthread_mutex_lock(&o->mu);
	TAILQ_CONCAT(&done, &o->done, link);
	pthread_mutex_unlock(&o->mu);
	struct offload_job *j;
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, link);
		j->done(j->arg);
		free(j);
	}
}

struct offload *offload_new(struct event_base *base, unsigned threads)
{
	struct offload *o = xcalloc(1, sizeof(*o));
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	TAILQ_INIT(&o->todo);
	TAILQ_INIT(&o->done);
	o->wake[0] = o->wake[1] = -1;
	bool ok = pipe2(o->wake, O_CLOEXEC | O_NONBLOCK) == 0;
	if (ok) {
		o->wake_ev = event_new(base, o->wake[0], EV_READ | EV_PERSIST, on_wake, o);
		ok = o->wake_ev && event_add(o->wake_ev, NULL) == 0;
	}
	/* Workers take no signals: they go to the event loop. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (threads < 1)
		threads = 1;
	if (threads > OFFLOAD_THREADS_MAX)
		threads = OFFLOAD_THREADS_MAX;
	while (ok && o->n_threads < threads) {
		ok = pthread_create(&o->threads[o->n_threads], NULL, worker, o) == 0;
		o->n_threads += ok;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ok) {
		offload_free(o);
		return NULL;
	}
	return o;
}

void offload_free(struct offload *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->mu);
	o->quit = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	for (unsigned i = 0; i < o->n_threads; i++)
		pthread_join(o->threads[i], NULL);
	on_wake(o->wake[0], EV_READ, o);  /* the completions still due */
	if (o->wake_ev)
		event_free(o->wake_ev);
	for (int i = 0; i < 2; i++)
		if (o->wake[i] >= 0)
			close(o->wake[i]);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
}

void offload_run(struct offload *o, void (*work)(void *arg), void (*done)(void *arg), void *arg)
{
	struct offload_job *j = xcalloc(1, sizeof(*j));
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&o->mu);
	TAILQ_INSERT_TAIL(&o->todo, j, link);
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}
