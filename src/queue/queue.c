/*
 * The queue process main: receives transactions from the smtpd processes
 * (BEGIN, RCPT..., OPEN, END-OF-MESSAGE or ABORT), creates the spool files
 * and writes the message into them, makes the verdict, commits, hands
 * committed messages to the scheduler, and recovers the spool at start-up.
 * Runs as the queue user in the state directory.
 *
 * It trusts smtpd no more than a client (SEC-1): every envelope string is
 * checked again before it is written to the spool; smtpd gets only the
 * write end of a pipe per message, which this process splices into the
 * spool file it alone holds, so smtpd can read no spool byte and nothing
 * it keeps reaches a message after its transaction; and the verdict on the
 * message is made here, from smtpd's SMTP-time symbols (verdict/).
 *
 * Commits run in a small pool of threads (COMMIT_WORKERS) so that the
 * fsyncs of concurrent sessions overlap and share the directory fsync
 * (group commit, see spool_fs.c) and the event loop never waits on the disk
 * for them. A worker runs spool_commit() only; the reply, the log line and
 * the hand-over to the scheduler happen back in the main thread
 * (util/offload.h). While its commit runs, a transaction is
 * owned by the workers: nothing else may close its descriptor.
 */
#include "queue/queue.h"
#include "queue/partners_learn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/config.h"
#include "ipc/channel.h"
#include "ipc/child_fds.h"
#include "ipc/ctl.h"
#include "ipc/txn.h"
#include "policy/rewrite.h"
#include "quarantine/keeper.h"
#include "queue/strip_commit.h"
#include "queue/config.h"
#include "queue/content_scan.h"
#include "queue/control.h"
#include "queue/emergency.h"
#include "queue/level_auto.h"
#include "queue/metrics_http.h"
#include "queue/scheduler.h"
#include "queue/spool.h"
#include "queue/spool_space.h"
#include "scan/policy.h"
#include "scan/watch.h"
#include "smtp/address.h"
#include "smtp/params.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/stopsig.h"
#include "util/offload.h"
#include "verdict/points.h"
#include "verdict/verdict.h"

#define SPOOL_LOCK_WAIT 15  /* seconds to wait for a previous queue process */
#define COMMIT_WORKERS 16   /* commits in flight at once; each mostly waits on fsync */

/* A transaction being received from one smtpd. */
struct queue;

struct incoming {
	TAILQ_ENTRY(incoming) link;
	struct queue *q;
	struct channel *from;
	uint32_t reqid;
	struct envelope env;
	int fd;               /* our descriptor of tmp/<id>, after OPEN */
	int pipe_rd;          /* the message pipe's read end (smtpd has the write end) */
	struct event *pipe_ev;
	uint64_t size;        /* message bytes written into the file so far */
	struct ipc_eom *eom;  /* smtpd's end of message, while the verdict is being made */
	struct verdict *verdict;
	struct content_scan *scan;  /* the scanner process is looking at it */
	int rewrite_fd;       /* the scanner's rewritten message (sealed memfd), or -1 */
	uint64_t rewrite_size;
	bool quarantine;      /* the verdict: commit into quarantine/ */
	bool learn;           /* inbound, accepted untagged: its sender becomes a partner (SCAN-11) */
	/* SCAN-9: what a malware engine found in this outbound message and
	 * its AUTH login, for the alarm once it is held; NULL: nothing. */
	char *alarm_finding, *alarm_login;
	/* SCAN-11: what the rehearsed level's content checks would have done
	 * (IPC_REHEARSED_*) and by which check. */
	uint32_t rehearsed;
	char rehearsed_by[48];
	bool committing;      /* handed to a commit worker: fd and env are theirs */
	bool orphaned;        /* its smtpd went away during the commit */
	int commit_rc;        /* spool_commit()'s result, set by the worker */
	int write_errno;      /* why writing the message into its file failed, or 0 */
	/* SCAN-8's strip: the rewrite is delivered under a new id and the
	 * original held (queue/strip_commit.h); stripped: the commit's outcome. */
	bool strip;
	struct strip_commit *stripped;
};

TAILQ_HEAD(incoming_list, incoming);

struct queue {
	const struct config *config;
	struct event_base *base;
	struct spool *spool;
	struct scheduler *sch;
	struct incoming_list incoming;
	struct offload *committers;  /* commit workers (util/offload.h) */
	struct content_client *content;  /* the scanner process */
	struct channel *control;     /* the master's; NULL once it closed (and freed itself) */
	struct channel **smtpd;      /* live smtpd channels (scanner file updates go to all) */
	size_t n_smtpd, cap_smtpd;
	struct scan_watch scan_watch;
	struct keeper *quarantine;   /* quarantine/ and its index (quarantine/keeper.h) */
	struct emergency *levels;    /* SCAN-11: the emergency level in force (queue/emergency.h) */
	struct level_auto *triggers; /* SCAN-11: its automatic switching (queue/level_auto.h) */
	struct spool_space *space;   /* free space on the spool, told to the smtpds (issue 14) */
	struct metrics_http *metrics;/* the Prometheus endpoint, or NULL (queue/metrics_http.h) */
	/* The policy for authenticated mail when the configuration has no
	 * scan: section: the checks' defaults, in which from_binding refuses
	 * (REL-3 on the header holds whatever the configuration). */
	struct scan_direction no_scan;
};

static struct incoming *incoming_find(struct queue *q, struct channel *ch, uint32_t reqid)
{
	struct incoming *in;
	TAILQ_FOREACH(in, &q->incoming, link)
		if (in->from == ch && in->reqid == reqid)
			return in;
	return NULL;
}

static void pipe_close(struct incoming *in)
{
	if (in->pipe_ev)
		event_free(in->pipe_ev);
	in->pipe_ev = NULL;
	if (in->pipe_rd >= 0)
		close(in->pipe_rd);
	in->pipe_rd = -1;
}

/* The scanner's rewritten message is not used (refused, discarded,
 * quarantined with the original, or the transaction is gone). */
static void rewrite_drop(struct incoming *in)
{
	in->strip = false;
	if (in->rewrite_fd >= 0)
		close(in->rewrite_fd);
	in->rewrite_fd = -1;
}

static void verdict_done(struct incoming *in)
{
	content_scan_cancel(in->scan);
	in->scan = NULL;
	free(in->eom);
	in->eom = NULL;
	free(in->verdict);
	in->verdict = NULL;
}

static void alarm_clear(struct incoming *in)
{
	free(in->alarm_finding);
	free(in->alarm_login);
	in->alarm_finding = in->alarm_login = NULL;
}

/* SCAN-9: tell the keeper of the malware an engine found in this
 * outbound message, held or refused (quarantine/keeper.h). */
static void outbound_malware(struct queue *q, struct incoming *in, bool held)
{
	if (in->alarm_finding) {
		const struct keeper_alarm a = { in->env.id, in->env.client ? in->env.client : "",
						in->env.helo ? in->env.helo : "", in->alarm_login, in->env.sender,
						in->alarm_finding, held };
		keeper_outbound_malware(q->quarantine, q->config, &a);
	}
	alarm_clear(in);
}

static void incoming_drop(struct queue *q, struct incoming *in)
{
	alarm_clear(in);
	verdict_done(in);
	rewrite_drop(in);
	pipe_close(in);
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
	ipc_txn_text_encode(m, type, reqid, text);
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
	struct ipc_txn_begin *b = xmalloc(sizeof(*b));
	if (!ipc_txn_begin_decode(m, b) || incoming_find(q, ch, m->reqid) || !envelope_address_ok(b->sender, true)) {
		free(b);
		return false;
	}
	struct incoming *in = xcalloc(1, sizeof(*in));
	in->q = q;
	in->from = ch;
	in->reqid = m->reqid;
	in->fd = -1;
	in->pipe_rd = -1;
	in->rewrite_fd = -1;
	in->env.arrival = (uint64_t)time(NULL);
	in->env.session = xstrdup(b->session);
	in->env.client = xstrdup(b->client);
	in->env.helo = xstrdup(b->helo);
	in->env.sender = xstrdup(b->sender);
	in->env.flags = b->flags;
	free(b);
	TAILQ_INSERT_TAIL(&q->incoming, in, link);
	return true;
}

static bool on_rcpt(struct queue *q, struct incoming *in, struct ipc_msg *m)
{
	char rcpt[IPC_STRING_MAX + 1];
	if (!ipc_txn_text_decode(m, rcpt, sizeof(rcpt)) || in->fd >= 0 || !envelope_address_ok(rcpt, false) ||
	    in->env.n_rcpts >= q->config->limits.recipients)
		return false;
	/* TOP-5: recipients are rewritten where they enter the queue; the
	 * address as given stays as the DSN original recipient. */
	char *rewritten = rewrite_apply(q->config->rewrite, rcpt);
	if (rewritten && !envelope_address_ok(rewritten, false)) {
		log_event(LOG_WARNING, "rewrite_refused", "from", rcpt, "to", rewritten,
			  "msg", "result is not a valid address; kept the original", NULL);
		free(rewritten);
		rewritten = NULL;
	}
	const char *addr = rewritten ? rewritten : rcpt;
	for (size_t i = 0; i < in->env.n_rcpts; i++)
		if (strcmp(in->env.rcpts[i].addr, addr) == 0) {  /* two aliases of one address */
			free(rewritten);
			return true;
		}
	envelope_add_rcpt(&in->env, addr);
	if (rewritten) {
		log_event(LOG_INFO, "rewritten", "session", in->env.session, "from", rcpt, "to", rewritten, NULL);
		size_t n = strlen(rcpt) + 8;
		char *orcpt = xmalloc(n);
		snprintf(orcpt, n, "rfc822;%s", rcpt);
		in->env.rcpts[in->env.n_rcpts - 1].dsn_orcpt = orcpt;
	}
	free(rewritten);
	return true;
}

/* RFC 3461 parameters; smtpd checked them, we check again (xtext, lengths,
 * the NOTIFY words) before they reach the spool and the next hop. */
static bool notify_ok(const char *s)
{
	if (strcmp(s, "NEVER") == 0)
		return true;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, ",");
		if (!((n == 7 && (strncmp(p, "SUCCESS", 7) == 0 || strncmp(p, "FAILURE", 7) == 0)) ||
		      (n == 5 && strncmp(p, "DELAY", 5) == 0)))
			return false;
		p += n;
		if (*p == ',' && *++p == '\0')
			return false;
	}
	return true;
}

static bool on_dsn(struct incoming *in, struct ipc_msg *m)
{
	char ret[IPC_STRING_MAX + 1], envid[IPC_STRING_MAX + 1];
	if (!ipc_txn_pair_decode(m, ret, sizeof(ret), envid, sizeof(envid)) || in->fd >= 0 || in->env.n_rcpts > 0 || in->env.dsn_ret || in->env.dsn_envid)
		return false;
	if ((ret[0] && strcmp(ret, "FULL") != 0 && strcmp(ret, "HDRS") != 0) || strlen(envid) > PARAMS_ENVID_MAX ||
	    !params_xtext_valid(envid, strlen(envid)))
		return false;
	in->env.dsn_ret = ret[0] ? xstrdup(ret) : NULL;
	in->env.dsn_envid = envid[0] ? xstrdup(envid) : NULL;
	return true;
}

static bool on_rcpt_dsn(struct incoming *in, struct ipc_msg *m)
{
	char notify[IPC_STRING_MAX + 1], orcpt[IPC_STRING_MAX + 1];
	if (!ipc_txn_pair_decode(m, notify, sizeof(notify), orcpt, sizeof(orcpt)) || in->fd >= 0 || in->env.n_rcpts == 0)
		return false;
	const char *semi = strchr(orcpt, ';');
	if (!notify_ok(notify) || strlen(orcpt) > PARAMS_ORCPT_MAX ||
	    (orcpt[0] && (!semi || !params_xtext_valid(semi + 1, strlen(semi + 1)))))
		return false;
	struct envelope_rcpt *r = &in->env.rcpts[in->env.n_rcpts - 1];
	free(r->dsn_notify);
	r->dsn_notify = notify[0] ? xstrdup(notify) : NULL;
	if (orcpt[0]) {  /* the client's ORCPT wins over the one rewriting set */
		free(r->dsn_orcpt);
		r->dsn_orcpt = xstrdup(orcpt);
	}
	return true;
}

/* Move what smtpd wrote into the pipe to the spool file, at the file's
 * own offsets (splice: no copy through user space). Returns false when
 * smtpd wrote more than any message may hold. */
static bool pipe_drain(struct queue *q, struct incoming *in)
{
	/* smtpd's limit counts the Received header too: nothing beyond it. */
	uint64_t limit = q->config->limits.message_size;
	while (in->pipe_rd >= 0) {
		loff_t at = (loff_t)in->env.body_offset + (loff_t)in->size;
		ssize_t n = splice(in->pipe_rd, NULL, in->fd, &at, 1u << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			in->size += (uint64_t)n;
			if (in->size > limit)
				return false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && in->pipe_ev)
			event_del(in->pipe_ev);  /* smtpd closed its end: nothing more comes */
		if (n == 0 || errno == EAGAIN)
			return true;
		/* The disk refused the bytes (ENOSPC, EIO): say so, the caller's
		 * message cannot tell this from an oversized message. */
		in->write_errno = errno;
		log_event(LOG_ERR, "spool_error", "op", "write", "queue_id", in->env.id, "msg",
			  strerror(in->write_errno), NULL);
		return false;
	}
	return true;
}

static void drop_failed(struct queue *q, struct incoming *in, const char *why)
{
	log_event(LOG_ERR, "queue_error", "session", in->env.session, "queue_id", in->env.id, "msg", why, NULL);
	reply(in->from, IPC_TXN_FAILED, in->reqid, why, -1);
	incoming_drop(q, in);
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct incoming *in = arg;
	struct queue *q = in->q;
	if (!pipe_drain(q, in))
		drop_failed(q, in, in->write_errno == ENOSPC ? IPC_REASON_NO_SPACE
							     : "message larger than the limit, or the spool write failed");
}

/* OPEN: the spool file (ours alone) and a pipe; smtpd gets the pipe's
 * write end and nothing else (SEC-1). */
static bool on_open(struct queue *q, struct incoming *in, struct ipc_msg *m)
{
	if (!ipc_txn_empty_decode(m) || in->fd >= 0 || in->env.n_rcpts == 0)
		return false;
	int p[2] = { -1, -1 };
	in->fd = spool_create(q->spool, &in->env);
	if (in->fd < 0 || pipe2(p, O_CLOEXEC) < 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		bool full = in->fd < 0 && errno == ENOSPC;
		if (p[0] >= 0) {
			close(p[0]);
			close(p[1]);
		}
		reply(in->from, IPC_TXN_FAILED, in->reqid, full ? IPC_REASON_NO_SPACE : "spool file could not be created",
		      -1);
		incoming_drop(q, in);
		return true;
	}
	in->pipe_rd = p[0];
	in->pipe_ev = event_new(q->base, p[0], EV_READ | EV_PERSIST, on_pipe, in);
	event_add(in->pipe_ev, NULL);
	reply(in->from, IPC_TXN_OPENED, in->reqid, in->env.id, p[1]);
	close(p[1]);  /* smtpd has its copy; ours would keep the pipe from ending */
	return true;
}

static struct verdict_thresholds thresholds_of(const struct scan_direction *d)
{
	return (struct verdict_thresholds){ .tag = d->tag, .quarantine = d->quarantine, .discard = d->discard,
					    .refuse = d->refuse };
}

/* One log line per message with its verdict (the scanner's policy). */
static void log_verdict(const struct incoming *in, const struct verdict *v, bool outbound,
			const struct ipc_eom *e)
{
	char syms[1024], score[POINTS_TEXT_MAX];
	verdict_symbols_text(v, syms, sizeof(syms));
	points_format(v->score, score, sizeof(score));
	log_event(LOG_INFO, "scan_verdict", "queue_id", in->env.id, "session", in->env.session,
		  "client", in->env.client, "direction", outbound ? "outbound" : "inbound", "score", score,
		  "symbols", syms[0] ? syms : "none", "action", verdict_action_name(v->action),
		  "iprev", e->iprev[0] ? e->iprev : "none", "spf", e->spf[0] ? e->spf : "none", "emergency_level",
		  log_u64(e->level), NULL);
}

static void commit_finish(struct queue *q, struct incoming *in);
static void commit_write(struct incoming *in);

/* A commit worker: spool_commit() only (fsync, rename, the group fsync of
 * the directory); answer, log and hand-over happen back on the loop. */
static void commit_run(void *arg)
{
	struct incoming *in = arg;
	uint64_t started = metrics_now_us();
	commit_write(in);
	metrics_observe_us(H_SPOOL_COMMIT, metrics_now_us() - started);
}

static void commit_write(struct incoming *in)
{
	struct spool *sp = in->q->spool;
	if (in->strip && in->rewrite_fd >= 0) {
		in->stripped = xcalloc(1, sizeof(*in->stripped));
		in->commit_rc = strip_commit_run(sp, &in->env, in->fd, in->size, in->rewrite_fd, in->rewrite_size,
						 in->stripped);
		rewrite_drop(in);
		return;
	}
	if (in->rewrite_fd >= 0) {
		in->commit_rc = spool_replace_message(sp, &in->env, in->fd, in->rewrite_fd, in->rewrite_size);
		rewrite_drop(in);
		if (in->commit_rc < 0)
			return;
		in->size = in->rewrite_size;
		in->env.body_end = in->env.body_offset + (off_t)in->size;
	}
	in->commit_rc = in->quarantine ? spool_commit_quarantine(sp, &in->env, in->fd, in->size)
				       : spool_commit(sp, &in->env, in->fd, in->size);
}

static void commit_done(void *arg)
{
	struct incoming *in = arg;
	commit_finish(in->q, in);
}

static void commit_start(struct queue *q, struct incoming *in)
{
	pipe_close(in);
	in->env.body_end = in->env.body_offset + (off_t)in->size;
	in->committing = true;
	offload_run(q->committers, commit_run, commit_done, in);
}

/* The scanner's header lines (a DKIM signature) were made over the
 * message as it returned it: quarantine keeps the original instead of a
 * rewrite, and a subject prefix changes a signed field. Then they would
 * not match what is delivered, and are left out (logged). */
static bool scanner_headers_void(const struct incoming *in, enum verdict_action a, const struct scan_direction *dir)
{
	const char *why = a == VERDICT_QUARANTINE && in->rewrite_fd >= 0 ? "quarantine keeps the original message"
			  : a == VERDICT_TAG && dir->subject_prefix ? "the subject prefix changes the message"
								    : NULL;
	if (why)
		log_event(LOG_INFO, "scanner_headers_dropped", "queue_id", in->env.id, "msg", why, NULL);
	return why != NULL;
}

/* SCAN-11: the scanner policy of the emergency level the message's
 * session started under. A level this configuration does not have (a
 * reload changed the list while the session was open) falls back to
 * the configuration as written, loudly. */
static const struct scan_config *level_scan(const struct queue *q, const struct ipc_eom *e)
{
	const struct config *lv = config_level(q->config, e->level);
	if (!lv) {
		log_event(LOG_WARNING, "level_unknown", "emergency_level", log_u64(e->level), "msg",
			  "the configuration has no such level: level 0's policy applies", NULL);
		return q->config->scan;
	}
	return lv->scan;
}

/* SCAN-11 rehearsal: what the level the message's session rehearsed
 * would have done with it, beside what was done (acted, by the level in
 * force): a limit or a check smtpd found it refused by, else the
 * stronger of what a content check's action of that level and the
 * verdict under that level's thresholds would have done. Logged,
 * appended to the verdict summary (the spool's verdict record, `queue
 * show`), counted for `ctl status`. */
static void rehearse_verdict(struct queue *q, struct incoming *in, const struct ipc_eom *e,
			     enum verdict_action acted, char *summary, size_t size)
{
	const struct config *rv = e->rehearse ? config_level(q->config, e->rehearse) : NULL;
	if (!rv)
		return;
	const char *would = e->rehearsal[0] ? "refuse" : NULL, *by = e->rehearsal[0] ? e->rehearsal : "thresholds";
	if (!would && rv->scan && in->verdict) {
		const struct scan_direction *dir = e->outbound ? &rv->scan->outbound : &rv->scan->inbound;
		struct verdict_thresholds t = thresholds_of(dir);
		struct verdict *copy = xmalloc(sizeof(*copy));
		*copy = *in->verdict;
		enum verdict_action a = verdict_decide(copy, &t);
		free(copy);
		enum verdict_action by_check = in->rehearsed == IPC_REHEARSED_REFUSE ? VERDICT_REFUSE
					       : in->rehearsed == IPC_REHEARSED_QUARANTINE ? VERDICT_QUARANTINE
					       : VERDICT_ACCEPT;
		if (by_check > a || (by_check == a && by_check != VERDICT_ACCEPT)) {
			a = by_check;
			by = in->rehearsed_by;
		}
		would = a != acted ? verdict_action_name(a) : NULL;
	}
	const char *name = q->config->emergency.levels[e->rehearse].name;
	log_event(LOG_INFO, "rehearsal", "queue_id", in->env.id, "session", in->env.session, "name", name, "acted",
		  verdict_action_name(acted), "would", would ? would : "same", "by", would ? by : "none", NULL);
	if (would && summary)
		snprintf(summary + strlen(summary), size - strlen(summary), "; rehearsal %s: %s (%s)", name, would, by);
	emergency_rehearsed(q->levels, would);
}

/* The metrics of a verdict: its action, and a refusal's reason class. */
static void count_verdict(enum verdict_action a, bool forced)
{
	static const enum metric_counter of[] = {
		[VERDICT_ACCEPT] = M_VERDICT_ACCEPT,         [VERDICT_TAG] = M_VERDICT_TAG,
		[VERDICT_QUARANTINE] = M_VERDICT_QUARANTINE, [VERDICT_DISCARD] = M_VERDICT_DISCARD,
		[VERDICT_REFUSE] = M_VERDICT_REFUSE,
	};
	metrics_count(of[a]);
	if (a == VERDICT_REFUSE)
		metrics_count(forced ? M_REFUSED_POLICY : M_REFUSED_SCAN);
	else if (a == VERDICT_DISCARD)
		metrics_count(M_MESSAGES_DISCARDED);
}

/* The verdict on a complete message (SCAN-2 store-and-forward), from
 * every symbol found: refuse, discard, or commit — into quarantine/, or
 * into queue/ with the headers and subject prefix recorded for delivery.
 * extra_headers: lines the scanner adds, or NULL; scanned: the scanner's
 * Authentication-Results (DKIM, DMARC), or NULL. */
static void finish_verdict(struct queue *q, struct incoming *in, const char *extra_headers, const char *scanned)
{
	const struct ipc_eom *e = in->eom;
	const struct scan_config *sc = level_scan(q, e);
	struct verdict *v = in->verdict;
	if (!sc && !v->forced_refuse) {  /* no scan section: only REL-3's check ran, or a reload dropped it */
		rehearse_verdict(q, in, e, VERDICT_ACCEPT, NULL, 0);
		in->learn = !e->outbound;
		if (e->outbound)
			in->env.flags |= ENVELOPE_F_OUTBOUND;
		verdict_done(in);
		commit_start(q, in);
		return;
	}
	const struct scan_direction *dir = !sc ? &q->no_scan : e->outbound ? &sc->outbound : &sc->inbound;
	struct verdict_thresholds t = thresholds_of(dir);
	enum verdict_action a = verdict_decide(v, &t);
	log_verdict(in, v, e->outbound, e);
	count_verdict(a, v->forced_refuse);
	metrics_http_count_verdict(q->metrics, v);
	char summary[1200], headers[4096 + IPC_SCAN_HEADERS_MAX];
	verdict_summary(v, summary, sizeof(summary));
	rehearse_verdict(q, in, e, a, summary, sizeof(summary));
	if (a == VERDICT_REFUSE) {
		const char *refusal = v->forced_refuse ? v->refuse_reply
				      : dir->refuse_reply ? dir->refuse_reply
				      : "550 5.7.1 Message refused: classified as spam";
		if (refusal[0] == '5')  /* a 4xx comes back: the hold and alarm then */
			outbound_malware(q, in, false);
		reply(in->from, IPC_TXN_REFUSED, in->reqid, refusal, -1);
		incoming_drop(q, in);
		return;
	}
	if (a == VERDICT_DISCARD) {
		log_event(LOG_INFO, "discarded", "queue_id", in->env.id, "session", in->env.session,
			  "from", in->env.sender, NULL);
		reply(in->from, IPC_TXN_DISCARDED, in->reqid, in->env.id, -1);
		incoming_drop(q, in);
		return;
	}
	struct verdict_auth auth = { in->env.client, e->iprev, e->ptr, e->spf, e->spf_domain, scanned };
	verdict_headers(v, q->config->hostname, &auth, dir->tag, headers, sizeof(headers) - IPC_SCAN_HEADERS_MAX);
	if (extra_headers && !(scanned && scanner_headers_void(in, a, dir)))
		snprintf(headers + strlen(headers), sizeof(headers) - strlen(headers), "%s", extra_headers);
	in->env.verdict = xstrdup(summary);
	in->env.add_headers = xstrdup(headers);
	if (a == VERDICT_TAG && dir->subject_prefix)
		in->env.subject_prefix = xstrdup(dir->subject_prefix);
	in->quarantine = a == VERDICT_QUARANTINE;
	if (!in->quarantine && !in->strip) {  /* only a held original is ever released */
		free(in->env.release_headers);
		in->env.release_headers = NULL;
	}
	in->learn = !e->outbound && a == VERDICT_ACCEPT;
	if (e->outbound)
		in->env.flags |= ENVELOPE_F_OUTBOUND;
	if (in->quarantine)
		rewrite_drop(in);  /* quarantine keeps the message as it arrived */
	else if (in->rewrite_fd >= 0)
		log_event(LOG_INFO, "rewritten", "queue_id", in->env.id, "size", log_u64(in->size), "new_size",
			  log_u64(in->rewrite_size), NULL);
	verdict_done(in);
	commit_start(q, in);
}

/* No answer from the scanner. Fail closed (451: the client keeps the
 * message and tries again) unless the configuration says to accept
 * unscanned mail, which is then marked as such. */
static void content_failed(struct queue *q, struct incoming *in, const char *why)
{
	bool open = q->config->scan && q->config->scan->scanner_fail_open;
	log_event(open ? LOG_WARNING : LOG_ERR, "scan_failed", "queue_id", in->env.id, "session", in->env.session,
		  "msg", why, "action", open ? "accept_unscanned" : "tempfail", NULL);
	if (!open) {
		reply(in->from, IPC_TXN_FAILED, in->reqid, "content scan failed", -1);
		incoming_drop(q, in);
		return;
	}
	char header[300];
	snprintf(header, sizeof(header), "X-Mailwarden-Scan: not scanned (%s)\r\n", why);
	verdict_add(in->verdict, "CONTENT_UNSCANNED", 0);
	finish_verdict(q, in, header, NULL);
}

static void on_content_done(void *arg, const struct ipc_scan_result *r, int rewrite_fd, const char *why)
{
	struct incoming *in = arg;
	in->scan = NULL;
	in->rewrite_fd = rewrite_fd;
	in->rewrite_size = r ? r->rewritten_size : 0;
	in->strip = r && r->stripped;
	if (!r) {
		content_failed(in->q, in, why);
		return;
	}
	for (uint32_t i = 0; i < r->n_symbols; i++)
		verdict_add(in->verdict, r->symbols[i].name, r->symbols[i].points);
	if (r->malware)
		level_auto_malware(in->q->triggers);
	if (r->refused)
		verdict_refuse(in->verdict, r->reply);
	if (r->hold)
		verdict_hold(in->verdict);
	in->rehearsed = r->rehearsed;
	snprintf(in->rehearsed_by, sizeof(in->rehearsed_by), "%s", r->rehearsed_by);
	if (r->hold == IPC_HOLD_MALWARE && in->eom->outbound) {
		in->alarm_finding = xstrdup(r->hold_detail);
		in->alarm_login = xstrdup(in->eom->auth);
	}
	if (r->release_headers[0])
		in->env.release_headers = xstrdup(r->release_headers);
	finish_verdict(in->q, in, r->headers[0] ? r->headers : NULL, r->auth_results);
}

/* What the scanner gets beside the message: the envelope as the queue
 * checked it, the login and smtpd's symbols. */
static struct ipc_scan_request *scan_request_of(const struct incoming *in, const struct ipc_eom *e)
{
	struct ipc_scan_request *r = xcalloc(1, sizeof(*r));
	r->outbound = e->outbound;
	r->level = e->level;
	r->rehearse = e->rehearse;
	snprintf(r->queue_id, sizeof(r->queue_id), "%s", in->env.id);
	snprintf(r->client, sizeof(r->client), "%s", in->env.client ? in->env.client : "");
	snprintf(r->helo, sizeof(r->helo), "%s", in->env.helo ? in->env.helo : "");
	snprintf(r->sender, sizeof(r->sender), "%s", in->env.sender);
	snprintf(r->auth, sizeof(r->auth), "%s", e->auth);
	snprintf(r->spf, sizeof(r->spf), "%s", e->spf);
	snprintf(r->spf_domain, sizeof(r->spf_domain), "%s", e->spf_domain);
	r->n_rcpts = (uint32_t)in->env.n_rcpts;
	for (size_t i = 0; i < in->env.n_rcpts && r->n_listed < IPC_SCAN_RCPTS_MAX; i++)
		snprintf(r->rcpts[r->n_listed++], sizeof(r->rcpts[0]), "%s", in->env.rcpts[i].addr);
	r->n_symbols = e->n_symbols;
	memcpy(r->symbols, e->symbols, sizeof(r->symbols[0]) * e->n_symbols);
	return r;
}

/* smtpd's symbols first; the content checks in the scanner process when
 * the direction's policy has any for this message (takes e). Without a
 * scan: section nothing is scanned, except that authenticated mail still
 * goes through the scanner for REL-3's from_binding (q->no_scan), and
 * fails closed like any scan when the scanner does not answer. */
static void decide(struct queue *q, struct incoming *in, struct ipc_eom *e)
{
	const struct scan_config *sc = level_scan(q, e);
	bool authenticated = e->auth[0] != '\0';
	level_auto_received(q->triggers);
	if (!sc && !authenticated) {
		rehearse_verdict(q, in, e, VERDICT_ACCEPT, NULL, 0);
		in->learn = !e->outbound;  /* accepted untagged: nothing judged it */
		if (e->outbound)
			in->env.flags |= ENVELOPE_F_OUTBOUND;
		free(e);
		commit_start(q, in);
		return;
	}
	in->eom = e;
	in->verdict = xmalloc(sizeof(*in->verdict));
	verdict_init(in->verdict);
	for (uint32_t i = 0; i < e->n_symbols; i++)
		verdict_add(in->verdict, e->symbols[i].name, e->symbols[i].points);
	const struct scan_direction *dir = !sc ? &q->no_scan : e->outbound ? &sc->outbound : &sc->inbound;
	if (!scan_direction_has_content(dir, authenticated)) {
		finish_verdict(q, in, NULL, NULL);
		return;
	}
	const char *why = NULL;
	struct ipc_scan_request *req = scan_request_of(in, e);
	in->scan = content_scan_start(q->content, in->fd, in->env.body_offset, in->env.body_offset + (off_t)in->size,
				      req, sc ? sc->scanner_timeout_ms : SCAN_SCANNER_TIMEOUT_MS, on_content_done, in,
				      &why);
	free(req);
	if (!in->scan)
		content_failed(q, in, why);
}

/* END-OF-MESSAGE: everything smtpd wrote is in the pipe; take the rest,
 * check the length, decide. */
static bool on_eom(struct queue *q, struct incoming *in, struct ipc_msg *m)
{
	struct ipc_eom *e = xmalloc(sizeof(*e));
	bool ok = ipc_eom_decode(m, e) && in->fd >= 0 && in->pipe_rd >= 0;
	if (ok && (!pipe_drain(q, in) || in->size != e->size)) {
		drop_failed(q, in, in->write_errno == ENOSPC ? IPC_REASON_NO_SPACE
							     : "message length differs from what smtpd reported");
		free(e);
		return true;
	}
	if (!ok) {
		free(e);
		return false;
	}
	pipe_close(in);
	metrics_count(M_MESSAGES_RECEIVED);
	decide(q, in, e);
	return true;
}

/* The strip action's delivered message (queue/strip_commit.h), when it
 * was committed, goes to the scheduler; the original is in quarantine. */
static void stripped_queue(struct queue *q, struct incoming *in)
{
	struct strip_commit *sc = in->stripped;
	in->stripped = NULL;
	if (!sc)
		return;
	if (sc->fd >= 0) {
		log_event(LOG_INFO, "committed", "queue_id", sc->delivered.id, "session", in->env.session, "client",
			  in->env.client, "from", in->env.sender, "stripped_from", in->env.id, NULL);
		scheduler_add(q->sch, &sc->delivered, sc->fd, false);
	} else {
		envelope_clear(&sc->delivered);
	}
	free(sc);
}

/* Main thread: a commit is over. Answer smtpd and queue the message. */
static void commit_finish(struct queue *q, struct incoming *in)
{
	in->committing = false;
	if (in->commit_rc < 0) {
		free(in->stripped);
		in->stripped = NULL;
		in->fd = (close(in->fd), -1);  /* spool_commit removed the file */
		if (!in->orphaned)
			reply(in->from, IPC_TXN_FAILED, in->reqid, "spool commit failed", -1);
		incoming_drop(q, in);
		return;
	}
	if (in->quarantine || in->stripped) {
		/* Held until an administrator releases or deletes it (SCAN-8);
		 * indexed once the file is durably in quarantine/. */
		keeper_add(q->quarantine, &in->env, in->fd);
		metrics_count(M_MESSAGES_QUARANTINED);
		log_event(LOG_INFO, "quarantined", "queue_id", in->env.id, "session", in->env.session,
			  "client", in->env.client, "from", in->env.sender, "verdict", in->env.verdict, NULL);
		stripped_queue(q, in);
		outbound_malware(q, in, true);
		if (!in->orphaned)
			reply(in->from, IPC_TXN_COMMITTED, in->reqid, in->env.id, -1);
		in->fd = (close(in->fd), -1);
		TAILQ_REMOVE(&q->incoming, in, link);
		envelope_clear(&in->env);
		free(in);
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
	metrics_count(M_MESSAGES_ACCEPTED);
	/* An orphan is on disk in queue/ all the same: deliver it (its client
	 * never saw the 250 and may send it again: at most a duplicate). */
	if (!in->orphaned)
		reply(in->from, IPC_TXN_COMMITTED, in->reqid, in->env.id, -1);
	if (in->learn)
		partners_learn_accepted(q->config, &in->env);
	int fd = in->fd;
	in->fd = -1;
	alarm_clear(in);
	TAILQ_REMOVE(&q->incoming, in, link);
	scheduler_add(q->sch, &in->env, fd, false);
	free(in);
}

/* SCAN-11: an smtpd's open sessions, for the trigger on sessions. */
static bool on_sessions(struct queue *q, struct channel *ch, struct ipc_msg *m)
{
	uint32_t n;
	if (!ipc_sessions_decode(m, &n))
		return false;
	level_auto_sessions(q->triggers, ch, n);
	return true;
}

static void on_smtpd_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct queue *q = arg;
	if (fd >= 0)
		close(fd);  /* smtpd never passes descriptors to us */
	struct incoming *in = m->type == IPC_TXN_BEGIN || m->type == IPC_SESSIONS ? NULL
			      : incoming_find(q, ch, m->reqid);
	if (in && in->committing) {
		/* Between END-OF-MESSAGE and our answer smtpd sends only ABORT (its client
		 * went away). The commit goes on: as when it finished first, the
		 * message is delivered and the client, who saw no 250, may send it
		 * again (at most a duplicate). Anything else is refused without a
		 * reply: the answer to COMMIT is on its way. */
		if (m->type == IPC_TXN_ABORT && ipc_txn_empty_decode(m)) {
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
	case IPC_TXN_DSN: ok = in && on_dsn(in, m); break;
	case IPC_TXN_RCPT_DSN: ok = in && on_rcpt_dsn(in, m); break;
	case IPC_TXN_EOM: ok = in && on_eom(q, in, m); break;
	case IPC_SESSIONS: ok = fd < 0 && on_sessions(q, ch, m); break;
	case IPC_TXN_ABORT:
		ok = ipc_txn_empty_decode(m);
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
	for (size_t i = 0; i < q->n_smtpd; i++)
		if (q->smtpd[i] == ch)
			q->smtpd[i] = q->smtpd[--q->n_smtpd];
	level_auto_smtpd_gone(q->triggers, ch);
	log_event(LOG_INFO, "smtpd_gone", "msg", why, NULL);
}

/* SIGHUP, passed on by the master after it loaded and checked the same
 * file: the new snapshot serves what starts from now; deliveries in
 * flight keep the one they hold, and nothing restarts, so the connection
 * pool and the deliveries survive (issue 10). */
static void queue_reload(struct queue *q, const char *path)
{
	struct config_errors errs = { 0 };
	struct config *fresh = config_load(path, &errs);
	for (size_t i = 0; i < errs.n; i++)
		log_event(LOG_ERR, "config_error", "msg", errs.items[i], NULL);
	config_errors_free(&errs);
	if (!fresh) {
		log_event(LOG_ERR, "reload", "result", "failed", "msg", "keeping the running configuration", NULL);
		return;
	}
	const struct config *old = q->config;
	q->config = fresh;
	scheduler_set_config(q->sch, fresh);
	metrics_http_set_config(q->metrics, fresh);
	config_unref(old);
	log_init("queue", fresh->log.target, fresh->log.format, fresh->log.level);
	log_event(LOG_INFO, "reload", "result", "ok", "config", fresh->source, NULL);
}

static void tell_level(struct channel *ch, uint32_t level, uint32_t rehearse)
{
	struct ipc_msg *m = xmalloc(sizeof(*m));
	ipc_level_encode(m, level, rehearse);
	channel_send(ch, m, -1);
	free(m);
}

/* SCAN-11: a switch of the emergency level goes to every smtpd. */
static void tell_smtpds_level(void *arg, uint32_t level, uint32_t rehearse)
{
	struct queue *q = arg;
	for (size_t i = 0; i < q->n_smtpd; i++)
		tell_level(q->smtpd[i], level, rehearse);
}

static void tell_space(struct channel *ch, uint64_t free_bytes)
{
	struct ipc_msg *m = xmalloc(sizeof(*m));
	ipc_spool_space_encode(m, free_bytes);
	channel_send(ch, m, -1);
	free(m);
}

/* Issue 14: every smtpd refuses MAIL with 452 4.3.1 when the spool has
 * no room for the message (smtp/spool_room.h). */
static void tell_smtpds_space(void *arg, uint64_t free_bytes)
{
	struct queue *q = arg;
	for (size_t i = 0; i < q->n_smtpd; i++)
		tell_space(q->smtpd[i], free_bytes);
}

static void add_smtpd(struct queue *q, int fd)
{
	if (q->n_smtpd == q->cap_smtpd) {
		q->cap_smtpd = q->cap_smtpd ? q->cap_smtpd * 2 : 4;
		q->smtpd = xreallocarray(q->smtpd, q->cap_smtpd, sizeof(*q->smtpd));
	}
	q->smtpd[q->n_smtpd++] = channel_new(q->base, fd, on_smtpd_msg, on_smtpd_closed, q);
	/* It started with the level its master read from the state file;
	 * a switch since then must not be missed. */
	tell_level(q->smtpd[q->n_smtpd - 1], emergency_level(q->levels), emergency_rehearsing(q->levels));
	uint64_t free_bytes;
	if (spool_space_known(q->space, &free_bytes))
		tell_space(q->smtpd[q->n_smtpd - 1], free_bytes);
}

static void add_scanner(struct queue *q, int fd)
{
	content_client_attach(q->content, fd);
}

/* The kinds of process the master connects to us (its table's queue
 * peers), and what takes over each new channel. */
static const struct {
	const char *kind;
	void (*add)(struct queue *q, int fd);
} peers[] = {
	{ "smtpd", add_smtpd },
	{ "scanner", add_scanner },
};

/* The master's control channel: a channel to a newly started peer (at our
 * start, or when the master restarted one alone), or a reload. */
static void on_control_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct queue *q = arg;
	char text[IPC_STRING_MAX + 1];
	if (m->type == IPC_MASTER_CONFIG && ctl_get_config(m, fd, text, sizeof(text))) {
		queue_reload(q, text[0] ? text : NULL);
		return;
	}
	if (ctl_get_channel(m, fd, text, sizeof(text)))
		for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
			if (strcmp(text, peers[i].kind) == 0) {
				peers[i].add(q, fd);
				return;
			}
	log_event(LOG_ERR, "ipc_error", "msg", "bad message from master", "type", ipc_type_name(m->type), NULL);
	exit(1);
}

static void on_control_closed(struct channel *ch, const char *why, void *arg)
{
	/* The master is gone: stop as on SIGTERM (PR_SET_PDEATHSIG sends it too). */
	struct queue *q = arg;
	q->control = NULL;
	log_event(LOG_WARNING, "master_lost", "msg", why, NULL);
	event_base_loopbreak(q->base);
}

static void recover_one(const char *id, bool held, void *arg)
{
	struct queue *q = arg;
	struct envelope e;
	int fd = spool_load(q->spool, id, held, &e);
	if (fd < 0)
		return;
	log_event(LOG_INFO, "recovered", "queue_id", id, "from", e.sender, "nrcpt", log_u64(e.n_rcpts),
		  "held", held ? "yes" : "no", NULL);
	scheduler_add(q->sch, &e, fd, held);
}

/* A message released from quarantine is back in queue/, not held. */
static void released_one(const char *id, void *arg)
{
	recover_one(id, false, arg);
}

/* Once a second: take what an earlier version's `quarantine release`
 * left in released/; hand smtpd changed scanner files; expire what has
 * been in quarantine long enough and send a digest when one is due. */
static void on_release_tick(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	spool_take_released(q->spool, released_one, q);
	scan_watch_poll(&q->scan_watch, q->config, q->smtpd, q->n_smtpd);
	keeper_tick(q->quarantine, q->config);
	metrics_gauge_set(G_QUEUE_OLDEST_ARRIVAL, (int64_t)scheduler_oldest_arrival(q->sch));
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct queue *q = arg;
	/* Committed messages are on disk; a delivery in flight is cut after
	 * the loop (scheduler_free: no wait for a slow next hop) and repeated
	 * after the restart (at most one duplicate, never a loss). */
	log_event(LOG_INFO, "stopping", NULL);
	event_base_loopbreak(q->base);
}

int queue_main(const struct config *c, const struct child_fds *fds)
{
	struct queue q = { .config = c };
	scan_direction_defaults(&q.no_scan);
	TAILQ_INIT(&q.incoming);
	metrics_queue_restarted();  /* the recovery counts the queue anew */
	q.spool = spool_open("spool", SPOOL_LOCK_WAIT);
	if (!q.spool)
		return 1;
	q.base = event_base_new();
	if (!q.base)
		return 1;
	q.sch = scheduler_new(q.base, c, q.spool);
	q.content = content_client_new(q.base);
	q.committers = offload_new(q.base, COMMIT_WORKERS);
	if (!q.committers) {
		log_event(LOG_ERR, "queue_error", "msg", "commit workers could not be started", NULL);
		return 1;
	}
	spool_recover(q.spool, recover_one, &q);
	q.quarantine = keeper_open(q.spool, q.sch);
	q.levels = emergency_new(q.base, &q.config, tell_smtpds_level, &q);
	q.space = spool_space_start(q.base, q.committers, "spool", tell_smtpds_space, &q);
	q.triggers = level_auto_new(q.base, &q.config, q.levels, q.sch, q.spool, q.space);
	partners_learn_start(q.base, &q.config);
	struct control *ctl = control_start(q.base, q.sch, q.quarantine, q.levels, &q.config);
	if (!ctl)
		log_event(LOG_ERR, "control_error", "msg", "no control socket; queue commands will not work", NULL);
	control_use_scanner(ctl, q.content);
	q.control = channel_new(q.base, fds->fds[0], on_control_msg, on_control_closed, &q);
	if (fds->n > 1)  /* the master bound metrics.listen (master.c's table of kinds) */
		q.metrics = metrics_http_start(fds->fds[1], c);
	q.scan_watch = scan_watch_at_fork;  /* what this generation's smtpds loaded */
	struct event *release = event_new(q.base, -1, EV_PERSIST, on_release_tick, &q);
	event_add(release, &(struct timeval){ .tv_sec = 1 });
	struct event *term = evsignal_new(q.base, SIGTERM, on_sigterm, &q);
	struct event *intr = evsignal_new(q.base, SIGINT, on_sigterm, &q);
	event_add(term, NULL);
	event_add(intr, NULL);
	stopsig_release();
	log_event(LOG_INFO, "ready", "spool", "spool", NULL);
	event_base_dispatch(q.base);

	/* A clean exit (issue 18 item 12): threads joined, what this file
	 * allocated freed. Transactions not committed are dropped (their
	 * clients never got a 250); committed messages stay in queue/. */
	/* The workers finish the commits in hand (their clients wait for the
	 * answer; a commit is never cut off midway), are joined, and what they
	 * finished is answered as usual. */
	metrics_http_stop(q.metrics);
	offload_free(q.committers);
	level_auto_free(q.triggers);  /* before the space it reads */
	spool_space_free(q.space);    /* after the workers: its statvfs completes on them */
	struct incoming *in;
	while ((in = TAILQ_FIRST(&q.incoming)) != NULL)
		incoming_drop(&q, in);
	content_client_free(q.content);
	for (size_t i = 0; i < q.n_smtpd; i++)
		channel_free(q.smtpd[i]);
	free(q.smtpd);
	if (q.control)
		channel_free(q.control);
	control_stop(ctl);
	emergency_free(q.levels);
	partners_learn_stop();
	event_free(release);
	event_free(term);
	event_free(intr);
	keeper_close(q.quarantine);
	scheduler_free(q.sch);
	spool_close(q.spool);
	event_base_free(q.base);
	return 0;
}
