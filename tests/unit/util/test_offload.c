/* Work off the event loop (issue 16 item 8): the work runs in a worker
 * thread, never on the loop's; every job's completion runs exactly once,
 * on the loop's thread; with one worker, jobs run in order. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <unistd.h>

#include <event2/event.h>

#include "util/offload.h"

#define JOBS 1000

struct job {
	int index;
	pthread_t worked_on, done_on;
	int done_calls;
};

static struct job jobs[JOBS];
static int order[JOBS], n_worked, n_done;
static struct event_base *base;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void work(void *arg)
{
	struct job *j = arg;
	j->worked_on = pthread_self();
	usleep(10);  /* long enough that the loop would notice if it ran here */
	pthread_mutex_lock(&mu);
	order[n_worked++] = j->index;
	pthread_mutex_unlock(&mu);
}

static void done(void *arg)
{
	struct job *j = arg;
	j->done_on = pthread_self();
	j->done_calls++;
	if (++n_done == JOBS)
		event_base_loopbreak(base);
}

Test(offload, work_runs_off_the_loop_and_each_completion_once_on_it)
{
	base = event_base_new();
	struct offload *o = offload_new(base, 1);
	cr_assert_not_null(o);
	for (int i = 0; i < JOBS; i++) {
		jobs[i].index = i;
		offload_run(o, work, done, &jobs[i]);
	}
	struct timeval limit = { 20, 0 };
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	cr_assert_eq(n_done, JOBS, "every completion ran (%d of %d)", n_done, JOBS);
	pthread_t loop = pthread_self();
	for (int i = 0; i < JOBS; i++) {
		cr_assert_eq(jobs[i].done_calls, 1);
		cr_assert_not(pthread_equal(jobs[i].worked_on, loop), "job %d worked on the loop's thread", i);
		cr_assert(pthread_equal(jobs[i].done_on, loop), "job %d completed off the loop", i);
		cr_assert_eq(order[i], i, "one worker keeps the order");
	}
}
