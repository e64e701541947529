/*
 * The queue process main: receives transactions from the smtpd processes
 * (BEGIN, RCPT..., OPEN, COMMIT or ABORT), creates and commits the spool
 * files, hands committed messages to the scheduler, and recovers the spool
 * at start-up. Runs as the queue user in the state directory.
 *
 * It trusts smtpd no more than a client: every envelope string is checked
 * again before it is written to the spool.
 *
 * Commits run in a small pool of threads (COMMIT_WORKERS) so that the
 * fsyncs of concurrent sessions overlap and share the directory fsync
 * (group commit, see spool_fs.c) and the event loop never waits on the disk
 * for them. A worker runs spool_commit() only; the reply, the log line and
 * the hand-over to the scheduler happen back in the main thread, which the
 * worker wakes through a pipe. While its commit runs, a transaction is
 * owned by the workers: nothing else may close its descriptor.
 */
#include "queue/queue.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "ipc/channel.h"
#include "master/child.h"
#include "queue/scheduler.h"
#include "queue/spool.h"
#include "smtp/address.h"
#include "util/alloc.h"
#include "util/log.h"

#define SPOOL_LOCK_WAIT 15  /* seconds to wait for a previous queue process */
#define COMMIT_WORKERS 16   /* commits in flight at once; each mostly waits on fsync */

/* A transaction being received from one smtpd. */
struct incoming {
	TAILQ_ENTRY(incoming) link;
	struct channel *from;
	uint32_t reqid;
	struct envelope env;
	int fd;               /* our descriptor of tmp/<id>, after OPEN */
	bool committing;      /* handed to a commit worker: fd and env are theirs */
	bool orphaned;        /* its smtpd went away during the commit */
	uint64_t size;        /* the size smtpd reported with COMMIT */
	int commit_rc;        /* spool_commit()'s result, set by the worker */
	TAILQ_ENTRY(incoming) job;
};

TAILQ_HEAD(incoming_list, incoming);

/* The commit workers' shared state: jobs to run, results to hand back. */
struct committer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct incoming_list todo, done;
	int wake[2];          /* pipe: a worker writes, the main loop reads */
	struct event *wake_ev;
};

struct queue {
	const struct config *config;
	struct event_base *base;
	struct spool *spool;
	struct scheduler *sch;
	struct incoming_list incoming;
	struct committer cm;
};

static struct incoming *incoming_find(struct queue *q, struct channel *ch, uint32_t reqid)
{
	struct incoming *in;
	TAILQ_FOREACH(in, &q->incoming, link)
		if (in->from == ch && in->reqid == reqid)
			return in;
	return NULL;
}

static void incoming_drop(struct queue *q, struct incoming *in)
{
	if (in->fd >= 0) {
		close(in->fd);
		spool_abort(q->spool, in->env.id);
	}
	TAILQ_REMOVE(&q->incoming, in, link);
	envelope_clear(&in->env);
	free(in);
}

static void reply(struct channel *ch, uint16_t type, uint32_t reqid, const char *text, int fd)
{
	struct ipc_msg *m = xmalloc(sizeof(*m));
	ipc_msg_init(m, type, reqid);
	ipc_put_str(m, text);
	channel_send(ch, m, fd);
	free(m);
}

/* "" (null sender) or a mailbox that parses as one: the same rules as smtpd's. */
static bool envelope_address_ok(const char *addr, bool allow_null)
{
	size_t n = strlen(addr);
	if (n == 0)
		return allow_null;
	if (n > ADDRESS_PATH_MAX)
		return false;
	char path[ADDRESS_PATH_MAX + 3];
	snprintf(path, sizeof(path), "<%s>", addr);
	struct address a;
	size_t used;
	return address_parse_path(path, n + 2, true, false, false, &a, &used) == ADDRESS_OK && used == n + 2;
}

static bool on_begin(struct queue *q, struct channel *ch, struct ipc_msg *m)
{
	char session[IPC_STRING_MAX + 1], client[IPC_STRING_MAX + 1], helo[IPC_STRING_MAX + 1],
		sender[IPC_STRING_MAX + 1];
	ipc_get_str(m, session, sizeof(session));
	ipc_get_str(m, client, sizeof(client));
	ipc_get_str(m, helo, sizeof(helo));
	ipc_get_str(m, sender, sizeof(sender));
	(void)ipc_get_u64(m);
	uint32_t flags = ipc_get_u32(m);
	if (!ipc_get_end(m) || incoming_find(q, ch, m->reqid) || !envelope_address_ok(sender, true))
		return false;
	struct incoming *in = xcalloc(1, sizeof(*in));
	in->from = ch;
	in->reqid = m->reqid;
	in->fd = -1;
	in->env.arrival = (uint64_t)time(NULL);
	in->env.session = xstrdup(session);
	in->env.client = xstrdup(client);
	in->env.helo = xstrdup(helo);
	in->env.sender = xstrdup(sender);
	in->env.flags = flags;
	TAILQ_INSERT_TAIL(&q->incoming, in, link);
	return true;
}

static bool on_rcpt(struct queue *q, struct incoming *in, struct ipc_msg *m)
{
	char rcpt[IPC_STRING_MAX + 1];
	ipc_get_str(m, rcpt, sizeof(rcpt));
	if (!ipc_get_end(m) || in->fd >= 0 || !envelope_address_ok(rcpt, false) ||
	    in->env.n_rcpts >= q->config->limits.recipients)
		return false;
	envelope_add_rcpt(&in->env, rcpt);
	return true;
}

static bool on_open(struct queue *q, struct incoming *in, struct ipc_msg *m)
{
	if (!ipc_get_end(m) || in->fd >= 0 || in->env.n_rcpts == 0)
		return false;
	in->fd = spool_create(q->spool, &in->env);
	if (in->fd < 0) {
		reply(in->from, IPC_TXN_FAILED, in->reqid, "spool file could not be created", -1);
		incoming_drop(q, in);
		return true;
	}
	reply(in->from, IPC_TXN_OPENED, in->reqid, in->env.id, in->fd);
	return true;
}

static bool on_commit(struct queue *q, struct incoming *in, struct ipc_msg *m)
{
	uint64_t size = ipc_get_u64(m);
	if (!ipc_get_end(m) || in->fd < 0)
		return false;
	in->size = size;
	in->committing = true;
	pthread_mutex_lock(&q->cm.mu);
	TAILQ_INSERT_TAIL(&q->cm.todo, in, job);
	pthread_cond_signal(&q->cm.cv);
	pthread_mutex_unlock(&q->cm.mu);
	return true;
}

/* Main thread: a commit is over. Answer smtpd and queue the message. */
static void commit_finish(struct queue *q, struct incoming *in)
{
	in->committing = false;
	if (in->commit_rc < 0) {
		in->fd = (close(in->fd), -1);  /* spool_commit removed the file */
		if (!in->orphaned)
			reply(in->from, IPC_TXN_FAILED, in->reqid, "spool commit failed", -1);
		incoming_drop(q, in);
		return;
	}
	char rcpts[1024] = "";
	for (size_t i = 0; i < in->env.n_rcpts; i++) {
		size_t used = strlen(rcpts);
		snprintf(rcpts + used, sizeof(rcpts) - used, "%s%s", i ? "," : "", in->env.rcpts[i].addr);
	}
	log_event(LOG_INFO, "committed", "queue_id", in->env.id, "session", in->env.session,
		  "client", in->env.client, "from", in->env.sender, "to", rcpts,
		  "nrcpt", log_u64(in->env.n_rcpts), "size", log_u64(in->size), NULL);
	/* An orphan is on disk in queue/ all the same: deliver it (its client
	 * never saw the 250 and may send it again: at most a duplicate). */
	if (!in->orphaned)
		reply(in->from, IPC_TXN_COMMITTED, in->reqid, in->env.id, -1);
	int fd = in->fd;
	in->fd = -1;
	TAILQ_REMOVE(&q->incoming, in, link);
	scheduler_add(q->sch, &in->env, fd);
	free(in);
}

static void *commit_worker(void *arg)
{
	struct queue *q = arg;
	struct committer *cm = &q->cm;
	pthread_mutex_lock(&cm->mu);
	for (;;) {
		struct incoming *in = TAILQ_FIRST(&cm->todo);
		if (!in) {
			pthread_cond_wait(&cm->cv, &cm->mu);
			continue;
		}
		TAILQ_REMOVE(&cm->todo, in, job);
		pthread_mutex_unlock(&cm->mu);
		in->commit_rc = spool_commit(q->spool, &in->env, in->fd, in->size);
		pthread_mutex_lock(&cm->mu);
		bool was_empty = TAILQ_EMPTY(&cm->done);
		TAILQ_INSERT_TAIL(&cm->done, in, job);
		if (was_empty)
			(void)!write(cm->wake[1], "", 1);
	}
	return NULL;
}

static void on_commits_done(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	char buf[64];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	struct incoming_list done = TAILQ_HEAD_INITIALIZER(done);
	pthread_mutex_lock(&q->cm.mu);
	TAILQ_CONCAT(&done, &q->cm.done, job);
	pthread_mutex_unlock(&q->cm.mu);
	struct incoming *in;
	while ((in = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, in, job);
		commit_finish(q, in);
	}
}

static bool committer_start(struct queue *q)
{
	struct committer *cm = &q->cm;
	pthread_mutex_init(&cm->mu, NULL);
	pthread_cond_init(&cm->cv, NULL);
	TAILQ_INIT(&cm->todo);
	TAILQ_INIT(&cm->done);
	if (pipe2(cm->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return false;
	cm->wake_ev = event_new(q->base, cm->wake[0], EV_READ | EV_PERSIST, on_commits_done, q);
	if (!cm->wake_ev || event_add(cm->wake_ev, NULL) < 0)
		return false;
	/* Workers take no signals: SIGTERM and SIGINT go to the event loop. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	bool ok = true;
	for (int i = 0; i < COMMIT_WORKERS && ok; i++) {
		pthread_t t;
		ok = pthread_create(&t, NULL, commit_worker, q) == 0 && pthread_detach(t) == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

static void on_smtpd_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct queue *q = arg;
	if (fd >= 0)
		close(fd);  /* smtpd never passes descriptors to us */
	struct incoming *in = m->type == IPC_TXN_BEGIN ? NULL : incoming_find(q, ch, m->reqid);
	if (in && in->committing) {
		/* Between COMMIT and our answer smtpd sends only ABORT (its client
		 * went away). The commit goes on: as when it finished first, the
		 * message is delivered and the client, who saw no 250, may send it
		 * again (at most a duplicate). Anything else is refused without a
		 * reply: the answer to COMMIT is on its way. */
		if (m->type == IPC_TXN_ABORT && ipc_get_end(m)) {
			in->orphaned = true;
			in->from = NULL;
			return;
		}
		log_event(LOG_ERR, "ipc_error", "msg", "message for a transaction being committed", "type",
			  ipc_type_name(m->type), "reqid", log_u64(m->reqid), NULL);
		return;
	}
	bool ok;
	switch (m->type) {
	case IPC_TXN_BEGIN: ok = fd < 0 && on_begin(q, ch, m); break;
	case IPC_TXN_RCPT: ok = in && on_rcpt(q, in, m); break;
	case IPC_TXN_OPEN: ok = in && on_open(q, in, m); break;
	case IPC_TXN_COMMIT: ok = in && on_commit(q, in, m); break;
	case IPC_TXN_ABORT:
		ok = ipc_get_end(m);
		if (in)
			incoming_drop(q, in);
		break;
	default: ok = false; break;
	}
	if (!ok) {
		/* A broken or hostile smtpd: refuse the transaction; the smtpd
		 * answers its client with a temporary error. */
		log_event(LOG_ERR, "ipc_error", "msg", "refused message from smtpd", "type",
			  ipc_type_name(m->type), "reqid", log_u64(m->reqid), NULL);
		if (in)
			incoming_drop(q, in);
		reply(ch, IPC_TXN_FAILED, m->reqid, "protocol error", -1);
	}
}

static void on_smtpd_closed(struct channel *ch, const char *why, void *arg)
{
	struct queue *q = arg;
	struct incoming *in, *next;
	for (in = TAILQ_FIRST(&q->incoming); in; in = next) {
		next = TAILQ_NEXT(in, link);
		if (in->from != ch)
			continue;
		if (in->committing) {
			in->orphaned = true;  /* commit_finish() decides */
			in->from = NULL;
		} else {
			incoming_drop(q, in);
		}
	}
	log_event(LOG_INFO, "smtpd_gone", "msg", why, NULL);
}

static void recover_one(const char *id, void *arg)
{
	struct queue *q = arg;
	struct envelope e;
	int fd = spool_load(q->spool, id, &e);
	if (fd < 0)
		return;
	log_event(LOG_INFO, "recovered", "queue_id", id, "from", e.sender, "nrcpt", log_u64(e.n_rcpts), NULL);
	scheduler_add(q->sch, &e, fd);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct queue *q = arg;
	/* Committed messages are on disk; a delivery in flight is repeated
	 * after the restart (at most one duplicate, never a loss). */
	log_event(LOG_INFO, "stopping", NULL);
	event_base_loopbreak(q->base);
}

int queue_main(const struct config *c, const struct child_fds *fds)
{
	struct queue q = { .config = c };
	TAILQ_INIT(&q.incoming);
	q.spool = spool_open("spool", SPOOL_LOCK_WAIT);
	if (!q.spool)
		return 1;
	q.base = event_base_new();
	if (!q.base)
		return 1;
	q.sch = scheduler_new(q.base, c, q.spool);
	if (!committer_start(&q)) {
		log_event(LOG_ERR, "queue_error", "msg", "commit workers could not be started", NULL);
		return 1;
	}
	spool_recover(q.spool, recover_one, &q);
	for (size_t i = 0; i < fds->n; i++)
		channel_new(q.base, fds->fds[i], on_smtpd_msg, on_smtpd_closed, &q);
	struct event *term = evsignal_new(q.base, SIGTERM, on_sigterm, &q);
	struct event *intr = evsignal_new(q.base, SIGINT, on_sigterm, &q);
	event_add(term, NULL);
	event_add(intr, NULL);
	log_event(LOG_INFO, "ready", "spool", "spool", NULL);
	event_base_dispatch(q.base);
	return 0;
}
