/*
 * The smtpd process main: accepts connections on the inherited listeners,
 * keeps the session list and the connection limits, and routes the queue's
 * answers to the sessions that asked. Runs unprivileged (and chrooted when
 * started as root), after child.c's skeleton.
 */
#include "smtp/session_report.h"
#include "smtp/smtpd.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config/config.h"
#include "ipc/channel.h"
#include "ipc/child_fds.h"
#include "ipc/txn.h"
#include "ipc/ctl.h"
#include "auth/authdb.h"
#include "auth/penalty.h"
#include "net/rate.h"
#include "scan/reload.h"
#include "scan/scan.h"
#include "sandbox/sandbox.h"
#include "smtp/partners_gate.h"
#include "smtp/smtpd_internal.h"
#include "tls/tls.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/stopsig.h"
#include "util/offload.h"

struct smtpd_listener {
	struct evconnlistener *ev;
	const char *name;
	struct smtpd *d;
};

static struct smtpd_assets current_assets;

bool smtpd_assets_load(const struct config *c, struct smtpd_assets *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	bool tls = false;
	for (size_t i = 0; i < c->n_listeners; i++)
		tls |= c->listeners[i].tls != LISTENER_TLS_NONE;
	if (tls && !(out->tls = tls_server_load(c, err, errlen)))
		return false;
	if (!(out->auth = auth_db_load(c, err, errlen))) {
		tls_server_free(out->tls);
		out->tls = NULL;
		return false;
	}
	return true;
}

void smtpd_assets_free(struct smtpd_assets *a)
{
	tls_server_free(a->tls);
	auth_db_free(a->auth);
	memset(a, 0, sizeof(*a));
}

static struct penalty_table *shared_penalties;
static uint32_t level_at_fork;

void smtpd_level_use(uint32_t level)
{
	level_at_fork = level;
}

void smtpd_penalties_use(struct penalty_table *t)
{
	shared_penalties = t;
}

void smtpd_assets_use(const struct smtpd_assets *a)
{
	current_assets = *a;
}

static struct smtpd_listener *listeners;
static size_t n_listeners;
static struct event *grace_timer;
static struct event *accept_retry;   /* ends a pause after accept() ran out of descriptors */
static bool accept_failing;          /* in such a spell (logged once per spell) */

/* How long the listeners rest when accept() has no descriptor left. */
#define ACCEPT_PAUSE_SECONDS 1

static void listeners_enable(bool on)
{
	for (size_t i = 0; i < n_listeners; i++)
		if (listeners[i].ev)
			(on ? evconnlistener_enable : evconnlistener_disable)(listeners[i].ev);
}

static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

unsigned smtpd_sessions_from(const struct smtpd *d, const struct sockaddr *sa)
{
	unsigned n = 0;
	struct smtp_session *s;
	TAILQ_FOREACH(s, &d->sessions, link)
		n += same_ip(&s->client_addr, sa);
	return n;
}

void smtpd_session_gone(struct smtpd *d, struct smtp_session *unused)
{
	session_report_changed();
	if (d->stopping) {
		if (d->n_sessions == 0)
			event_base_loopbreak(d->base);
		return;
	}
	/* Below the cap again: the listeners paused at the cap take connections. */
	if (d->n_sessions + 1 == d->active->limits.connections)
		listeners_enable(true);
}

static void on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct smtpd_listener *l = arg;
	struct smtpd *d = l->d;
	accept_failing = false;
	smtp_session_start(d, fd, sa, l->name);
	session_report_changed();
	/* At the cap the listener pauses instead of accepting and refusing in a loop. */
	if (d->n_sessions >= d->active->limits.connections) {
		log_event(LOG_WARNING, "session_cap", "sessions", log_u64(d->n_sessions), NULL);
		listeners_enable(false);
	}
}

/* Issue 14, case 156: accept() failed, typically out of descriptors
 * (EMFILE, ENFILE). The listening socket stays readable, so libevent would
 * call accept() again at once, forever, and log every failure: a busy
 * loop that fills the disk with log lines. Pause the listeners instead
 * (the connections wait in the backlog: back-pressure, as at the session
 * cap) and try again a second later; one log line per spell. */
static void on_accept_error(struct evconnlistener *ev, void *arg)
{
	struct smtpd_listener *l = arg;
	int err = EVUTIL_SOCKET_ERROR();
	if (!accept_failing)
		log_event(LOG_WARNING, "accept_error", "msg", evutil_socket_error_to_string(err), "sessions",
			  log_u64(l->d->n_sessions), "pause", log_u64(ACCEPT_PAUSE_SECONDS), NULL);
	accept_failing = true;
	listeners_enable(false);
	evtimer_add(accept_retry, &(struct timeval){ .tv_sec = ACCEPT_PAUSE_SECONDS });
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd *d = arg;
	if (!d->stopping && d->n_sessions < d->active->limits.connections)
		listeners_enable(true);
}

struct smtp_session *smtpd_session_by_id(struct smtpd *d, const char *id)
{
	struct smtp_session *s;
	TAILQ_FOREACH(s, &d->sessions, link)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static struct smtp_session *session_by_reqid(struct smtpd *d, uint32_t reqid)
{
	struct smtp_session *s;
	TAILQ_FOREACH(s, &d->sessions, link)
		if (s->txn && s->txn->reqid == reqid)
			return s;
	return NULL;
}

/* SCAN-11: new sessions start under level n and rehearse level rehearse
 * (0: none); sessions in progress keep theirs. The session cap follows
 * the level at once. A level this smtpd's configuration lacks is not a
 * broken queue: a reloaded queue may know more levels than an smtpd that
 * is finishing its sessions under the old file; it keeps its level. */
static void smtpd_set_level(struct smtpd *d, uint32_t n, uint32_t rehearse)
{
	const struct config *lv = config_level(d->config, n);
	const struct config *rv = rehearse ? config_level(d->config, rehearse) : NULL;
	if (!lv || (rehearse && !rv)) {
		log_event(LOG_WARNING, "level_unknown", "emergency_level", log_u64(n), "rehearse", log_u64(rehearse),
			  "msg", "not a level of this configuration: keeping the one in force", NULL);
		return;
	}
	if (rehearse != d->rehearse)
		log_event(LOG_INFO, "rehearsal", "emergency_level", log_u64(rehearse), "name",
			  d->config->emergency.levels[rehearse].name, NULL);
	d->rehearse = rehearse;
	d->rehearse_cfg = rv;
	if (n != d->level)
		log_event(LOG_INFO, "level", "emergency_level", log_u64(n), "name", d->config->emergency.levels[n].name,
			  "sessions", log_u64(d->n_sessions), NULL);
	d->level = n;
	d->active = lv;
	if (!d->stopping)
		listeners_enable(d->n_sessions < lv->limits.connections);
}

static void on_queue_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct smtpd *d = arg;
	if (m->type == IPC_LEVEL) {
		uint32_t n, rehearse;
		if (fd >= 0 || !ipc_level_decode(m, &n, &rehearse)) {
			log_event(LOG_ERR, "ipc_error", "msg", "bad level message from queue", NULL);
			exit(1);
		}
		smtpd_set_level(d, n, rehearse);
		return;
	}
	if (m->type == IPC_SPOOL_SPACE) {  /* for the check at MAIL (smtp/spool_room.h) */
		if (fd >= 0 || !ipc_spool_space_decode(m, &d->spool_free)) {
			log_event(LOG_ERR, "ipc_error", "msg", "bad message from queue", "type", ipc_type_name(m->type), NULL);
			exit(1);
		}
		d->spool_free_known = true;
		log_event(LOG_DEBUG, "spool_space", "spool_free", log_u64(d->spool_free), NULL);
		return;
	}
	if (m->type == IPC_SCAN_FILE) {  /* a scanner file changed: its new version (scan/reload.h) */
		uint32_t index, total;
		if (!ipc_scan_file_decode(m, &index, &total)) {
			log_event(LOG_ERR, "ipc_error", "msg", "bad message from queue", "type", ipc_type_name(m->type), NULL);
			exit(1);
		}
		scan_reload_file(index, total, fd);
		return;
	}
	char text[IPC_STRING_MAX + 1];
	const char *str = text;
	bool ok = ipc_txn_text_decode(m, text, sizeof(text)) && (m->type != IPC_TXN_OPENED || fd >= 0) &&
		  (m->type == IPC_TXN_OPENED || m->type == IPC_TXN_COMMITTED || m->type == IPC_TXN_FAILED ||
		   m->type == IPC_TXN_REFUSED || m->type == IPC_TXN_DISCARDED);
	if (!ok) {
		log_event(LOG_ERR, "ipc_error", "msg", "bad message from queue", "type", ipc_type_name(m->type), NULL);
		exit(1);
	}
	struct smtp_session *s = session_by_reqid(d, m->reqid);
	if (!s) {
		if (fd >= 0)
			close(fd);  /* the session is gone; the queue drops its file on ABORT */
		return;
	}
	if (m->type == IPC_TXN_OPENED)
		smtp_session_queue_opened(s, str, fd);
	else if (m->type == IPC_TXN_COMMITTED)
		smtp_session_queue_committed(s, str);
	else if (m->type == IPC_TXN_REFUSED)
		smtp_session_queue_refused(s, str);
	else if (m->type == IPC_TXN_DISCARDED)
		smtp_session_queue_discarded(s, str);
	else
		smtp_session_queue_failed(s, str);
}

static void on_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd *d = arg;
	log_event(LOG_INFO, "grace_over", "sessions", log_u64(d->n_sessions), NULL);
	event_base_loopbreak(d->base);
}

/* Stop accepting; idle sessions get 421 now, busy ones when their
 * transaction ends or the grace period is over. Without the queue
 * (queue_lost) every session ends now: nothing can be accepted. */
static void smtpd_stop(struct smtpd *d, bool queue_lost)
{
	if (d->stopping && !queue_lost)
		return;
	bool first = !d->stopping;
	d->stopping = true;
	for (size_t i = 0; i < n_listeners; i++) {
		if (listeners[i].ev)
			evconnlistener_free(listeners[i].ev);
		listeners[i].ev = NULL;
	}
	/* Closing sessions stay on the list until their reply is written. */
	struct smtp_session *s;
	TAILQ_FOREACH(s, &d->sessions, link) {
		if (queue_lost) {
			if (s->txn)
				s->txn->queue_knows = false;
			smtp_session_close(s, "421 4.3.0 %s Service temporarily unavailable",
					   d->config->hostname);
		} else {
			smtp_session_shutdown(s);
		}
	}
	if (d->n_sessions == 0) {
		event_base_loopbreak(d->base);
		return;
	}
	if (first) {
		grace_timer = evtimer_new(d->base, on_grace_over, d);
		evtimer_add(grace_timer, &(struct timeval){ .tv_sec = d->config->shutdown_grace });
	}
}

/* The queue is gone (it died; the master restarts it alone and hands us
 * a channel to the new one). What it knew of our transactions is lost:
 * each is answered 451, never 250; sessions stay. A stopping
 * smtpd has no reason to wait: every session ends now. */
static void smtpd_queue_lost(struct smtpd *d, const char *why)
{
	log_event(LOG_WARNING, "queue_lost", "msg", why, NULL);
	d->queue = NULL;
	if (d->stopping) {
		smtpd_stop(d, true);
		return;
	}
	struct smtp_session *s, *next;
	for (s = TAILQ_FIRST(&d->sessions); s; s = next) {
		next = TAILQ_NEXT(s, link);
		smtp_session_queue_lost(s);
	}
}

static void on_queue_closed(struct channel *ch, const char *why, void *arg)
{
	smtpd_queue_lost(arg, why);  /* the channel is freed after this callback */
}

/* A channel to a (new) queue from the master: it replaces any old one,
 * whose transactions are then lost (the old queue is dead or dying). */
static void on_control_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct smtpd *d = arg;
	char peer[IPC_STRING_MAX + 1];
	if (!ctl_get_channel(m, fd, peer, sizeof(peer)) || strcmp(peer, "queue") != 0) {
		log_event(LOG_ERR, "ipc_error", "msg", "bad message from master", "type", ipc_type_name(m->type), NULL);
		exit(1);
	}
	if (d->queue) {
		channel_free(d->queue);
		smtpd_queue_lost(d, "replaced by the master");
	}
	d->queue = channel_new(d->base, fd, on_queue_msg, on_queue_closed, d);
	session_report_new_queue();
	log_event(LOG_INFO, "queue_connected", NULL);
}

static void on_control_closed(struct channel *ch, const char *why, void *arg)
{
	/* The master is gone (PR_SET_PDEATHSIG sends SIGTERM as well). */
	struct smtpd *d = arg;
	log_event(LOG_WARNING, "master_lost", "msg", why, NULL);
	smtpd_stop(d, false);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct smtpd *d = arg;
	log_event(LOG_INFO, "stopping", "sessions", log_u64(d->n_sessions), NULL);
	smtpd_stop(d, false);
}

bool smtpd_prepare(const struct config *c)
{
	return scan_prepare(c) && partners_gate_prepare(c);
}

int smtpd_main(const struct config *c, const struct child_fds *fds)
{
	/* The master's shared table (issue 16 item 9); a private one only if
	 * the master could not make it. */
	struct smtpd d = { .config = c, .active = config_level(c, level_at_fork), .level = level_at_fork,
			  .assets = &current_assets,
			  .penalties = shared_penalties ? shared_penalties : penalty_new(false),
			  .tls_rate = rate_new() };
	if (!d.penalties)
		return 1;
	if (!d.active) {  /* the master read a level this configuration does not have */
		d.active = c;
		d.level = 0;
	}
	TAILQ_INIT(&d.sessions);
	d.base = event_base_new();
	if (!d.base)
		return 1;
	/* Two threads: a burst of logins costs at most two cores, and the
	 * loop keeps serving every other session (issue 16 item 8). */
	d.auth_workers = offload_new(d.base, 2);
	if (!d.auth_workers)
		log_event(LOG_ERR, "auth_error", "msg", "no worker threads: password checks run on the loop", NULL);
	channel_new(d.base, fds->fds[0], on_control_msg, on_control_closed, &d);
	scan_start(d.base, c);  /* the scanner's resolver on this loop */
	scan_reload_init(d.base, c);
	partners_gate_start(d.base, c);
	session_report_start(&d);
	n_listeners = fds->n - 1;
	listeners = xcalloc(n_listeners, sizeof(*listeners));
	for (size_t i = 0; i < n_listeners; i++) {
		listeners[i].d = &d;
		listeners[i].name = c->listeners[i].name;
		listeners[i].ev = evconnlistener_new(d.base, on_accept, &listeners[i],
						     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
						     fds->fds[i + 1]);
		if (!listeners[i].ev) {
			log_event(LOG_ERR, "listen_error", "listener", listeners[i].name, NULL);
			return 1;
		}
		evconnlistener_set_error_cb(listeners[i].ev, on_accept_error);
	}
	accept_retry = evtimer_new(d.base, on_accept_retry, &d);
	struct event *term = evsignal_new(d.base, SIGTERM, on_sigterm, &d);
	struct event *intr = evsignal_new(d.base, SIGINT, on_sigterm, &d);
	event_add(term, NULL);
	event_add(intr, NULL);
	/* Last: everything that opens a file or makes a thread is done. */
	if (!sandbox_enter(SANDBOX_SMTPD, c->security.seccomp))
		return 1;
	stopsig_release();
	log_event(LOG_INFO, "ready", "listeners", log_u64(n_listeners), NULL);
	event_base_dispatch(d.base);
	log_event(LOG_INFO, "stopped", NULL);
	offload_free(d.auth_workers);  /* checks in hand finish; no thread outlives main */
	partners_gate_stop();
	session_report_stop();
	if (d.penalties != shared_penalties)
		penalty_free(d.penalties);
	rate_free(d.tls_rate);
	return 0;
}
