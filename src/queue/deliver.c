#include "queue/deliver.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "policy/route.h"
#include "policy/tlspolicy.h"
#include "queue/maildir.h"
#include "queue/scheduler.h"
#include "smtp/client.h"
#include "tls/tls.h"
#include "util/alloc.h"

/* One next hop's share of a message. */
struct job {
	struct scheduler *sch;
	struct qentry *q;
	const struct route *route;
	char **rcpts;         /* addresses (borrowed from the envelope) */
	size_t *index;        /* their positions in the envelope */
	size_t n;
};

static const char *rcpt_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : "";
}

static void job_free(struct job *j)
{
	free(j->rcpts);
	free(j->index);
	free(j);
}

static void smtp_job_done(void *arg, const struct smtp_client_reply *replies, size_t n)
{
	struct job *j = arg;
	for (size_t i = 0; i < n; i++)
		scheduler_rcpt_result_tls(j->sch, j->q, j->index[i], replies[i].code, replies[i].text,
					  j->route->spec, replies[i].tls);
	scheduler_job_done(j->sch, j->q);
	job_free(j);
}

static void run_maildir(const struct config *c, struct job *j)
{
	char why[512];
	int rc = maildir_deliver(j->route->path, j->q->env.id, j->q->env.sender, j->rcpts, j->n,
				 j->q->fd, j->q->env.body_offset, why, sizeof(why));
	for (size_t i = 0; i < j->n; i++)
		scheduler_rcpt_result(j->sch, j->q, j->index[i], rc == 0 ? 250 : 451,
				      rc == 0 ? "250 2.0.0 delivered to maildir" : why, j->route->spec);
	scheduler_job_done(j->sch, j->q);
	job_free(j);
}

static void run_smtp(struct event_base *base, const struct config *c, struct job *j)
{
	struct envelope *e = &j->q->env;
	off_t end = lseek(j->q->fd, 0, SEEK_END);
	struct smtp_client_job cj = {
		.host = j->route->host, .port = j->route->port, .lmtp = j->route->kind == ROUTE_LMTP,
		.helo_name = c->hostname, .sender = e->sender, .rcpts = j->rcpts, .n_rcpts = j->n,
		.body_fd = j->q->fd, .body_offset = e->body_offset, .body_end = end,
		.body_8bit = e->flags & 1u, .smtputf8 = (e->flags & 2u) != 0,
		.connect_timeout = c->queue.connect_timeout, .reply_timeout = c->queue.reply_timeout,
	};
	/* TLS-5/TLS-7: the strictest policy of the recipients' domains. */
	struct tls_requirement req = { TLS_LEVEL_NONE, 0 };
	for (size_t i = 0; i < j->n; i++) {
		const char *dom = rcpt_domain(j->rcpts[i]);
		req = tls_policy_stricter(req, tls_policy_lookup(c, dom, strlen(dom)));
	}
	cj.tls_level = req.level;
	cj.tls_min_version = req.min_version;
	cj.tls_ctx = req.level != TLS_LEVEL_NONE ? tls_client_ctx(c) : NULL;
	cj.tls_name = j->route->host;
	smtp_client_start(base, &cj, smtp_job_done, j);
}

/* Recipients without a route (the configuration changed since they were
 * accepted) wait: a route may come back with the next reload. */
static void no_route(struct scheduler *sch, struct qentry *q, size_t i)
{
	char reply[300];
	snprintf(reply, sizeof(reply), "451 4.4.4 no route for domain %s", rcpt_domain(q->env.rcpts[i].addr));
	scheduler_rcpt_result(sch, q, i, 451, reply, "none");
}

void deliver_start(struct event_base *base, const struct config *c, struct scheduler *sch, struct qentry *q)
{
	struct envelope *e = &q->env;
	size_t n = e->n_rcpts;
	struct job **jobs = xcalloc(n, sizeof(*jobs));
	size_t n_jobs = 0;
	for (size_t i = 0; i < n; i++) {
		if (e->rcpts[i].status != RCPT_PENDING)
			continue;
		const char *dom = rcpt_domain(e->rcpts[i].addr);
		const struct route *r = route_lookup(c->routes, c->n_routes, dom, strlen(dom));
		if (!r) {
			no_route(sch, q, i);
			continue;
		}
		struct job *j = NULL;
		for (size_t k = 0; k < n_jobs && !j; k++)
			if (jobs[k]->route == r)
				j = jobs[k];
		if (!j) {
			j = jobs[n_jobs++] = xcalloc(1, sizeof(*j));
			*j = (struct job){ .sch = sch, .q = q, .route = r,
					   .rcpts = xcalloc(n, sizeof(char *)), .index = xcalloc(n, sizeof(size_t)) };
		}
		j->rcpts[j->n] = e->rcpts[i].addr;
		j->index[j->n++] = i;
	}
	/* +1 holds the round open until every job has started, so a job that
	 * finishes at once cannot end the round early. */
	q->jobs_left = (unsigned)n_jobs + 1;
	for (size_t k = 0; k < n_jobs; k++) {
		if (jobs[k]->route->kind == ROUTE_MAILDIR)
			run_maildir(c, jobs[k]);
		else
			run_smtp(base, c, jobs[k]);
	}
	free(jobs);
	scheduler_job_done(sch, q);
}
