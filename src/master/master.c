#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/check.h"
#include "auth/penalty.h"
#include "config/config.h"
#include "content/rules_watch.h"
#include "content/scanner.h"
#include "ipc/channel.h"
#include "ipc/ctl.h"
#include "master/child.h"
#include "master/detach.h"
#include "master/exit_status.h"
#include "master/listeners.h"
#include "master/metrics_socket.h"
#include "master/notify.h"
#include "master/preflight.h"
#include "master/bayes_store.h"
#include "master/rules_compiler.h"
#include "master/yara_watch.h"
#include "master/statedir.h"
#include "queue/queue.h"
#include "scan/scan.h"
#include "scan/watch.h"
#include "smtp/smtpd.h"
#include "state/levelstate.h"
#include "util/fdlimit.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/pidfile.h"

#define KILL_AFTER_GRACE 5   /* seconds past shutdown_grace before SIGKILL */
#define BACKOFF_FIRST 1      /* seconds before a dead child is started again, ... */
#define BACKOFF_MAX 30       /* ... doubling per death up to this, ... */
#define BACKOFF_RESET 60     /* ... back to the first after a life this long */
#define RULES_POLL_SECONDS 1 /* how often the rule files are checked for changes */

/* --- the table of child kinds ------------------------------------------- */

/* A kind that reads hostile bytes: its own unprivileged user, chrooted
 * into the empty directory (SEC-1). */
static struct privdrop_target confined(const char *user, const struct config *c)
{
	static char empty[4096];
	snprintf(empty, sizeof(empty), "%s/empty", c->state_dir);
	return (struct privdrop_target){ .user = user, .workdir = empty, .chroot_dir = empty };
}

static struct privdrop_target smtpd_target(const struct config *c)
{
	return confined(c->smtpd_user, c);
}

/* The scanner parses hostile content: confined like smtpd, with a user of
 * its own so neither can touch the other. */
static struct privdrop_target scanner_target(const struct config *c)
{
	return confined(c->scanner_user, c);
}

static struct privdrop_target queue_target(const struct config *c)
{
	return (struct privdrop_target){ .user = c->user, .workdir = c->state_dir, .chroot_dir = NULL };
}

static size_t one(const struct config *c)
{
	return 1;
}

static size_t smtpd_count(const struct config *c)
{
	return c->smtpd_processes;
}

static const struct child_spec smtpd_spec = { "smtpd", smtpd_target, smtpd_main, smtpd_prepare };
static const struct child_spec scanner_spec = { "scanner", scanner_target, scanner_main, scanner_prepare };
static const struct child_spec queue_spec = { "queue", queue_target, queue_main, NULL };

/* A kind of child: what to start, how many, and its wiring. Every child
 * gets a control channel to the master (its fds[0]); a queue_peer also
 * gets a channel to the queue, passed over both control channels (and
 * again whenever either side is restarted). A kind with replace_on_reload
 * is started anew on SIGHUP (new listeners, TLS assets); the others are
 * kept and told about the new configuration. */
struct child_kind {
	const struct child_spec *spec;
	size_t (*count)(const struct config *c);
	bool queue_peer;
	bool listeners;          /* inherits the listening sockets after the control channel */
	bool replace_on_reload;
	bool metrics;            /* inherits the metrics endpoint's socket after the control channel */
};

/* kinds[0] is the queue, the hub every queue_peer is wired to. The order
 * is the start order; a stop goes the other way round, the queue last.
 *
 * The queue serves the metrics endpoint (issue 15): it is neither the
 * master (root when started as root: no HTTP parser there) nor one of
 * the processes that read internet bytes or hostile content (smtpd,
 * scanner), it is never replaced by a reload (the endpoint stays up),
 * and it owns the queue whose size and age it reports. Every process
 * counts into the shared block (util/metrics.h); the queue only reads
 * it, from a thread of its own, so a scrape never waits on the queue's
 * loop nor slows it. */
static const struct child_kind kinds[] = {
	{ &queue_spec, one, false, false, false, true },
	{ &scanner_spec, one, true, false, true, false },
	{ &smtpd_spec, smtpd_count, true, true, true, false },
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))
#define QUEUE_KIND (&kinds[0])
#define SCANNER_KIND (&kinds[1])

/* --- children ------------------------------------------------------------ */

struct master;

/* A child's life: RUNNING until it dies; then WAITING for its back-off
 * and RUNNING again. RETIRING (replaced by a reload, or the master is
 * stopping) has been sent SIGTERM and is forgotten once reaped. */
enum child_state { CHILD_WAITING, CHILD_RUNNING, CHILD_RETIRING };

static const char *const child_state_names[] = {
	[CHILD_WAITING] = "waiting", [CHILD_RUNNING] = "running", [CHILD_RETIRING] = "retiring",
};

struct child {
	TAILQ_ENTRY(child) link;
	struct master *m;
	const struct child_kind *kind;
	enum child_state state;
	pid_t pid;                /* 0 once reaped */
	struct channel *ctl;      /* the control channel, NULL once closed */
	time_t started;
	unsigned delay;           /* the next restart's back-off, seconds */
	struct event *timer;      /* WAITING: the restart; RETIRING: the SIGKILL */
};

TAILQ_HEAD(child_list, child);

struct master {
	struct config *config;
	struct smtpd_assets assets;      /* keys, certificates, credentials */
	struct listener_set listeners;
	struct event_base *base;
	struct child_list children;
	struct rules_watch *rules;       /* scan.rules, compiled; scanners inherit it */
	pid_t rules_compiler;            /* compiling its Hyperscan databases (0: none) */
	bool rules_changed;              /* a new set waits for the compiler before scanners take it */
	struct event *rules_timer;
	struct bayes_store *bayes;       /* reload on new training; auto-learning */
	struct yara_watch *yara;         /* scan.yara's rules, reloaded when edited */
	int metrics_fd;                  /* the metrics endpoint's socket, for the queue; -1: none */
	char *metrics_listen;            /* ... and the address it was bound to */
	char pidfile[4096];              /* claimed at start-up; "": none (util/pidfile.h) */
	bool stopping;
};

static void child_timer_fired(evutil_socket_t fd, short what, void *arg);
static void child_start(struct child *ch);
static void child_schedule_restart(struct child *ch);

static void child_set_state(struct child *ch, enum child_state st)
{
	log_event(LOG_DEBUG, "child_state", "child", ch->kind->spec->name, "pid",
		  log_u64((unsigned long long)ch->pid), "from", child_state_names[ch->state], "to",
		  child_state_names[st], NULL);
	ch->state = st;
}

static struct child *child_new(struct master *m, const struct child_kind *kind)
{
	struct child *ch = xcalloc(1, sizeof(*ch));
	ch->m = m;
	ch->kind = kind;
	ch->delay = BACKOFF_FIRST;
	ch->timer = evtimer_new(m->base, child_timer_fired, ch);
	TAILQ_INSERT_TAIL(&m->children, ch, link);
	return ch;
}

static void child_free(struct child *ch)
{
	TAILQ_REMOVE(&ch->m->children, ch, link);
	if (ch->ctl)
		channel_free(ch->ctl);
	event_free(ch->timer);
	free(ch);
}

static struct child *running_queue(struct master *m)
{
	struct child *ch;
	TAILQ_FOREACH(ch, &m->children, link)
		if (ch->kind == QUEUE_KIND && ch->state == CHILD_RUNNING && ch->ctl)
			return ch;
	return NULL;
}

/* Hand each side one end of a fresh socketpair over its control channel. */
static void wire_to_queue(struct master *m, struct child *peer)
{
	struct child *q = running_queue(m);
	if (!q || !peer->ctl || peer->state != CHILD_RUNNING)
		return;  /* the queue's (re)start wires every peer */
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		log_event(LOG_ERR, "spawn_error", "msg", strerror(errno), NULL);
		kill(peer->pid, SIGTERM);  /* restarted, and wired then */
		return;
	}
	struct ipc_msg *msg = xmalloc(sizeof(*msg));
	ctl_put_channel(msg, peer->kind->spec->name);
	channel_send(q->ctl, msg, sp[0]);
	ctl_put_channel(msg, QUEUE_KIND->spec->name);
	channel_send(peer->ctl, msg, sp[1]);
	free(msg);
	close(sp[0]);
	close(sp[1]);
}

static void wire_all_peers(struct master *m)
{
	struct child *ch;
	TAILQ_FOREACH(ch, &m->children, link)
		if (ch->kind->queue_peer && ch->state == CHILD_RUNNING)
			wire_to_queue(m, ch);
}

static void on_ctl_msg(struct channel *chan, struct ipc_msg *msg, int fd, void *arg)
{
	struct child *ch = arg;
	/* Children send nothing but HELLO (handled by the channel) and the
	 * scanner's Bayes samples: anything else is a broken or compromised
	 * child. Fail closed: restart it. */
	if (ch->kind == SCANNER_KIND && fd < 0 && msg->type == IPC_BAYES_SAMPLE && bayes_store_sample(ch->m->bayes, msg))
		return;
	if (fd >= 0)
		close(fd);
	log_event(LOG_ERR, "ipc_error", "msg", "unexpected message on a control channel", "child",
		  ch->kind->spec->name, "pid", log_u64((unsigned long long)ch->pid), "type",
		  ipc_type_name(msg->type), NULL);
	channel_free(chan);
	ch->ctl = NULL;
	kill(ch->pid, SIGTERM);
}

/* True once pid has exited (not yet reaped: SIGCHLD is on its way). */
static bool child_exited(pid_t pid)
{
	siginfo_t info = { 0 };
	return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

static void on_ctl_closed(struct channel *chan, const char *why, void *arg)
{
	struct child *ch = arg;
	ch->ctl = NULL;
	/* Usually the child has just died; if not, it cannot be managed any
	 * more: stop it, and it is restarted like one that died. */
	if (ch->state == CHILD_RUNNING && !ch->m->stopping && !child_exited(ch->pid)) {
		log_event(LOG_WARNING, "control_lost", "child", ch->kind->spec->name, "pid",
			  log_u64((unsigned long long)ch->pid), "msg", why, NULL);
		kill(ch->pid, SIGTERM);
	}
}

/* Fork one child with its control channel (and listeners), then wire it. */
static void child_start(struct child *ch)
{
	struct master *m = ch->m;
	int sp[2];
	pid_t pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0) {
		size_t nl = ch->kind->listeners ? m->listeners.n : ch->kind->metrics && m->metrics_fd >= 0 ? 1 : 0;
		int *fds = xcalloc(nl + 1, sizeof(int));
		fds[0] = sp[1];
		for (size_t i = 0; i < nl; i++)
			fds[i + 1] = ch->kind->listeners ? m->listeners.items[i].fd : m->metrics_fd;
		/* SCAN-11: an smtpd starts under the emergency level in force
		 * (the queue tells it of later switches). */
		smtpd_level_use((uint32_t)level_state_current(m->config, time(NULL)));
		pid = child_spawn(m->config, ch->kind->spec, &(struct child_fds){ fds, nl + 1 });
		free(fds);
		close(sp[1]);
		if (pid < 0)
			close(sp[0]);
	} else {
		log_event(LOG_ERR, "spawn_error", "child", ch->kind->spec->name, "msg", strerror(errno), NULL);
	}
	if (pid < 0) {
		child_schedule_restart(ch);
		return;
	}
	ch->pid = pid;
	ch->started = time(NULL);
	child_set_state(ch, CHILD_RUNNING);
	ch->ctl = channel_new(m->base, sp[0], on_ctl_msg, on_ctl_closed, ch);
	log_event(LOG_INFO, "spawned", "child", ch->kind->spec->name, "pid", log_u64((unsigned long long)pid),
		  NULL);
	if (ch->kind == QUEUE_KIND)
		wire_all_peers(m);
	else if (ch->kind->queue_peer)
		wire_to_queue(m, ch);
}

/* Start the children of one kind, or (kind NULL) of every kind that a
 * reload replaces (replace_only) or of all, in table order. */
static void start_kinds(struct master *m, const struct child_kind *kind, bool replace_only)
{
	for (size_t k = 0; k < N_KINDS; k++) {
		if ((kind && kind != &kinds[k]) || (replace_only && !kinds[k].replace_on_reload))
			continue;
		size_t n = kinds[k].count(m->config);
		for (size_t i = 0; i < n; i++)
			child_start(child_new(m, &kinds[k]));
	}
}

/* SIGTERM a child that is not to come back; SIGKILL if still there after
 * shutdown_grace (plus a margin) has passed. */
static void child_retire(struct child *ch)
{
	evtimer_del(ch->timer);
	if (ch->state == CHILD_WAITING) {
		child_free(ch);
		return;
	}
	child_set_state(ch, CHILD_RETIRING);
	kill(ch->pid, SIGTERM);
	evtimer_add(ch->timer, &(struct timeval){ .tv_sec = ch->m->config->shutdown_grace + KILL_AFTER_GRACE });
}

static void child_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct child *ch = arg;
	if (ch->state == CHILD_RETIRING)
		kill(ch->pid, SIGKILL);
	else if (ch->state == CHILD_WAITING && !ch->m->stopping)
		child_start(ch);
}

/* A child died unexpectedly: start it again, alone, after its back-off
 * (doubling per quick death, so a child that keeps dying costs little). */
static void child_schedule_restart(struct child *ch)
{
	if (time(NULL) - ch->started >= BACKOFF_RESET)
		ch->delay = BACKOFF_FIRST;
	log_event(LOG_WARNING, "restarting", "child", ch->kind->spec->name, "delay", log_u64(ch->delay), NULL);
	child_set_state(ch, CHILD_WAITING);
	ch->pid = 0;
	evtimer_add(ch->timer, &(struct timeval){ .tv_sec = ch->delay });
	ch->delay = ch->delay * 2 > BACKOFF_MAX ? BACKOFF_MAX : ch->delay * 2;
}

/* --- stopping ------------------------------------------------------------ */

static bool only_queue_left(const struct master *m)
{
	const struct child *ch;
	TAILQ_FOREACH(ch, &m->children, link)
		if (ch->kind != QUEUE_KIND)
			return false;
	return true;
}

/* Stop order: every other kind first (smtpd may still be committing to
 * the queue), the queue once they are gone; exit when nothing is left. */
static void stop_advance(struct master *m)
{
	struct child *ch, *next;
	for (ch = TAILQ_FIRST(&m->children); ch; ch = next) {
		next = TAILQ_NEXT(ch, link);
		if (ch->state != CHILD_RETIRING && (ch->kind != QUEUE_KIND || only_queue_left(m)))
			child_retire(ch);
	}
	if (TAILQ_EMPTY(&m->children))
		event_base_loopbreak(m->base);
}

/* --- signals ------------------------------------------------------------- */

static struct child *child_by_pid(struct master *m, pid_t pid)
{
	struct child *ch;
	TAILQ_FOREACH(ch, &m->children, link)
		if (ch->pid == pid)
			return ch;
	return NULL;
}

static void rules_compiler_exited(struct master *m, pid_t pid, int status);

static void reap_children(struct master *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *ch = child_by_pid(m, pid);
		if (!ch) {
			if (pid == m->rules_compiler)
				rules_compiler_exited(m, pid, status);
			else
				bayes_store_reaped(m->bayes, pid, status);
			continue;
		}
		char how[48];
		const char *hint = exit_status_describe(status, how, sizeof(how));
		bool expected = ch->state == CHILD_RETIRING || m->stopping;
		/* No hint: its NULL key ends the list there. */
		log_event(expected ? LOG_INFO : LOG_ERR, "child_exited", "child", ch->kind->spec->name,
			  "pid", log_u64((unsigned long long)pid), "status", how, hint ? "hint" : NULL, hint, NULL);
		if (ch->ctl) {
			channel_free(ch->ctl);
			ch->ctl = NULL;
		}
		if (expected)
			child_free(ch);
		else
			child_schedule_restart(ch);
	}
	if (m->stopping)
		stop_advance(m);
}

/* Room for every session limits.connections allows (its socket, a pipe
 * to the queue during a transaction) and the process's own files; said
 * when the hard limit does not give it. */
static void raise_fd_limit(const struct config *c)
{
	rlim_t need = (rlim_t)c->limits.connections * 2 + 256;
	rlim_t got = fdlimit_raise(need > 4096 ? need : 4096);
	if (got < need)
		log_event(LOG_WARNING, "fd_limit", "limit", log_u64(got), "needed", log_u64(need), "msg",
			  "fewer open files than limits.connections needs: raise LimitNOFILE (the hard limit) or lower "
			  "limits.connections", NULL);
}

/* The files the configuration names (preflight.h); warnings are logged
 * at once, problems added to errs. */
static bool preflight_passes(const struct config *c, struct config_errors *errs)
{
	struct config_errors warnings = { 0 };
	size_t before = errs->n;
	preflight_check(c, errs, &warnings);
	raise_fd_limit(c);
	config_warnings(c, &warnings);   /* what check-config warns about, logged */
	for (size_t i = 0; i < warnings.n; i++)
		log_event(LOG_WARNING, "config_warning", "msg", warnings.items[i], NULL);
	config_errors_free(&warnings);
	return errs->n == before;
}

static void on_sigterm(struct master *m, int sig)
{
	if (!m->stopping) {
		log_event(LOG_INFO, "stopping", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
		notify_stopping();
	}
	m->stopping = true;
	if (m->rules_compiler > 0)
		kill(m->rules_compiler, SIGTERM);
	bayes_store_stop(m->bayes);
	stop_advance(m);
}

/* The queue runs in the state directory: it gets the file's absolute path. */
static void send_config(struct child *q, const struct config *c)
{
	char *abs = c->source[0] == '<' ? NULL : realpath(c->source, NULL);
	struct ipc_msg *msg = xmalloc(sizeof(*msg));
	ctl_put_config(msg, abs ? abs : c->source[0] == '<' ? NULL : c->source);
	channel_send(q->ctl, msg, -1);
	free(msg);
	free(abs);
}

/* Start new children of one kind (NULL: every kind with replace_on_reload)
 * first, then retire the ones they replace: SIGTERM, and shutdown_grace
 * to finish what they hold (sessions, scans in hand). */
static void replace_children(struct master *m, const struct child_kind *kind)
{
	struct child_list old;
	TAILQ_INIT(&old);
	struct child *ch, *next;
	for (ch = TAILQ_FIRST(&m->children); ch; ch = next) {
		next = TAILQ_NEXT(ch, link);
		bool replaced = kind ? ch->kind == kind : ch->kind->replace_on_reload;
		if (replaced && ch->state != CHILD_RETIRING) {
			TAILQ_REMOVE(&m->children, ch, link);
			TAILQ_INSERT_TAIL(&old, ch, link);
		}
	}
	start_kinds(m, kind, kind == NULL);
	while ((ch = TAILQ_FIRST(&old)) != NULL) {
		TAILQ_REMOVE(&old, ch, link);
		TAILQ_INSERT_TAIL(&m->children, ch, link);
		child_retire(ch);
	}
}

/* Have the current rule set's Hyperscan databases compiled into the
 * cache (master/rules_compiler.h); a compiler still at work on an older
 * set is stopped. */
static void compile_rules(struct master *m)
{
	if (m->rules_compiler > 0)
		kill(m->rules_compiler, SIGTERM);
	m->rules_compiler = 0;
	const struct rule_set *rs = rules_watch_set(m->rules);
	if (rs && m->config->scan && m->config->scan->n_rules) {
		pid_t pid = rules_compiler_start(rs, m->config->state_dir);
		m->rules_compiler = pid > 0 ? pid : 0;
	}
	if (!m->rules_compiler && m->rules_changed) {  /* nothing to wait for */
		m->rules_changed = false;
		replace_children(m, SCANNER_KIND);
	}
}

/* The compiler is done: a changed rule set goes to a new scanner now,
 * with its databases (the old one served the old rules meanwhile); the
 * same set does too when the compiler added databases it lacked. */
static void rules_compiler_exited(struct master *m, pid_t pid, int status)
{
	m->rules_compiler = 0;
	bool added = rules_compiler_added(pid, status);
	if ((added || m->rules_changed) && !m->stopping)
		replace_children(m, SCANNER_KIND);
	m->rules_changed = false;
}

/* Once a second (issue 11): a changed rule file that compiles into a
 * good set goes to the rules compiler, and once its databases are there
 * a new scanner starts with it, the way SIGHUP does; nothing else is
 * touched. The old scanner serves the old rules until then, and finishes
 * the messages it holds. New Bayes training also goes to a new scanner,
 * at once unless one waits for the rules compiler anyway. */
static void on_rules_tick(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	if (m->stopping)
		return;
	bool bayes = bayes_store_poll(m->bayes, m->config, time(NULL));
	bool yara = yara_watch_poll(m->yara, m->config);
	if ((bayes || yara) && !m->rules_changed)
		replace_children(m, SCANNER_KIND);
	if (!rules_watch_poll(m->rules))
		return;
	scanner_rules_use(rules_watch_set(m->rules));
	m->rules_changed = true;  /* a new scanner takes it once its databases are compiled */
	compile_rules(m);
}

/* SIGHUP: load and check the new configuration as at start-up; a bad one
 * is logged and the running one kept. A good one goes to the queue, which
 * loads the same file and swaps its snapshot without a restart, so
 * deliveries in flight and the connection pool survive; the kinds that
 * hold listeners and TLS assets are replaced (new children first, then
 * the old ones get SIGTERM and shutdown_grace to finish their sessions). */
static void reload(struct master *m);

/* The endpoint's socket is bound once, at start-up (metrics_socket.h). */
static void metrics_reload_note(const struct master *m)
{
	const char *want = m->config->metrics.listen;
	if ((want != NULL) != (m->metrics_fd >= 0) || (want && m->metrics_listen && strcmp(want, m->metrics_listen)))
		log_event(LOG_WARNING, "config_warning", "msg",
			  "metrics.listen changed: the endpoint keeps its address until the next start", NULL);
}

/* The service manager hears of the reload and of its end, good or bad
 * (a bad one keeps the running configuration: still ready). */
static void on_sighup(struct master *m)
{
	if (m->stopping)
		return;
	notify_reloading();
	reload(m);
	notify_ready();
}

static void reload(struct master *m)
{
	struct config_errors errs = { 0 };
	struct config *fresh = config_load(m->config->source[0] == '<' ? NULL : m->config->source, &errs);
	if (fresh && !preflight_passes(fresh, &errs)) {
		config_free(fresh);
		fresh = NULL;
	}
	for (size_t i = 0; i < errs.n; i++)
		log_event(LOG_ERR, "config_error", "msg", errs.items[i], NULL);
	config_errors_free(&errs);
	struct listener_set bound;
	struct smtpd_assets assets = { 0 };
	struct rules_watch *rules = NULL;
	char why[1024] = "";
	/* Certificates, credentials and rules are read again on every reload
	 * (TLS keys rotate without a restart); a bad file keeps the running set. */
	if (!fresh || !statedir_prepare(fresh) || !smtpd_assets_load(fresh, &assets, why, sizeof(why)) ||
	    !(rules = rules_watch_new(fresh, why, sizeof(why))) || !listeners_bind(fresh, &m->listeners, &bound)) {
		if (why[0])
			log_event(LOG_ERR, "config_error", "msg", why, NULL);
		log_event(LOG_ERR, "reload", "result", "failed", "msg", "keeping the running configuration", NULL);
		smtpd_assets_free(&assets);
		rules_watch_free(rules);
		if (fresh)
			config_free(fresh);
		return;
	}
	/* Forked children hold their own copies: the master's may go. */
	smtpd_assets_free(&m->assets);
	m->assets = assets;
	smtpd_assets_use(&m->assets);
	rules_watch_free(m->rules);
	m->rules = rules;
	scanner_rules_use(rules_watch_set(m->rules));
	m->listeners = bound;
	config_free(m->config);
	m->config = fresh;
	yara_watch_free(m->yara);  /* the new scanners read the new file's rules */
	m->yara = yara_watch_new(m->config);
	log_init("master", fresh->log.target, fresh->log.format, fresh->log.level);
	log_event(LOG_INFO, "reload", "result", "ok", "config", fresh->source, NULL);
	metrics_reload_note(m);

	struct child *q = running_queue(m);
	if (q)  /* a queue being restarted starts with the new snapshot anyway */
		send_config(q, m->config);
	(void)scan_watch_changed(&scan_watch_at_fork, m->config);
	replace_children(m, NULL);
	compile_rules(m);
}

/* --- start-up ------------------------------------------------------------ */

/* The master's signals come through a signalfd, not libevent's handlers:
 * a child forked from this loop then inherits no signal state of ours. */
static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap_children(m);
		else if (si.ssi_signo == SIGHUP)
			on_sighup(m);
		else
			on_sigterm(m, (int)si.ssi_signo);
	}
}

static int master_loop(struct master *m)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		log_event(LOG_ERR, "fatal", "msg", strerror(errno), NULL);
		return 1;
	}
	struct event *sig = event_new(m->base, sfd, EV_READ | EV_PERSIST, on_signal, m);
	event_add(sig, NULL);
	m->rules_timer = event_new(m->base, -1, EV_PERSIST, on_rules_tick, m);
	event_add(m->rules_timer, &(struct timeval){ .tv_sec = RULES_POLL_SECONDS });
	/* The scanner files as the smtpds load them: the queue's baseline. */
	(void)scan_watch_changed(&scan_watch_at_fork, m->config);
	start_kinds(m, NULL, false);
	compile_rules(m);  /* the scanner starts with what the cache has */
	notify_ready();
	event_base_dispatch(m->base);
	event_free(sig);
	event_free(m->rules_timer);
	close(sfd);
	struct child *ch;
	while ((ch = TAILQ_FIRST(&m->children)) != NULL)
		child_free(ch);
	return 0;
}

/* The pid file (util/pidfile.h) marks state_dir as ours before anything
 * binds, so a second serve on it is refused with a clear message; kept at
 * the path of the start-up configuration until exit. */
static bool claim_pidfile(struct master *m, char *why, size_t len)
{
	if (!pidfile_path(m->config->state_dir, m->pidfile, sizeof(m->pidfile))) {
		snprintf(why, len, "%s: state_dir too long for the pid file", m->config->state_dir);
		m->pidfile[0] = '\0';
		return false;
	}
	if (pidfile_claim(m->pidfile, why, len))
		return true;
	m->pidfile[0] = '\0';  /* not ours: never removed by us */
	return false;
}

int master_run(const char *config_path, bool foreground)
{
	struct config_errors errs = { 0 }, warnings = { 0 };
	struct config *c = config_load(config_path, &errs);
	if (c)
		preflight_check(c, &errs, &warnings);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.items[i]);
	bool failed = !c || errs.n > 0;
	config_errors_free(&errs);
	if (failed) {
		config_errors_free(&warnings);
		config_free(c);
		return 1;
	}
	/* serve without -f: until it has started, its log goes where the
	 * configuration says (stderr: the caller's terminal), then to syslog. */
	int detached = foreground ? -1 : detach_begin();
	log_init("master", c->log.target, c->log.format, c->log.level);
	log_event(LOG_INFO, "started", "version", MW_VERSION, "config", c->source,
		  "state_dir", c->state_dir, NULL);
	raise_fd_limit(c);
	config_warnings(c, &warnings);   /* what check-config warns about, logged */
	for (size_t i = 0; i < warnings.n; i++)
		log_event(LOG_WARNING, "config_warning", "msg", warnings.items[i], NULL);
	config_errors_free(&warnings);
	if (strcmp(c->source, CONFIG_DEFAULT_SOURCE) == 0) {  /* the demo: say which rules it scans with */
		const char *what, *rules = config_default_rules(&what);
		log_event(LOG_INFO, "default_rules", "rules", rules ? rules : "none", "set", what, NULL);
	}

	struct master m = { .config = c, .bayes = bayes_store_new(c), .yara = yara_watch_new(c), .metrics_fd = -1 };
	TAILQ_INIT(&m.children);
	char why[1024] = "";
	if (!statedir_prepare(c) || !claim_pidfile(&m, why, sizeof(why)) ||
	    !smtpd_assets_load(c, &m.assets, why, sizeof(why)) ||
	    !(m.rules = rules_watch_new(c, why, sizeof(why))) || !listeners_bind(c, NULL, &m.listeners) ||
	    !metrics_socket_bind(c, &m.metrics_fd, why, sizeof(why)) || !(m.base = event_base_new())) {
		if (why[0]) {
			log_event(LOG_ERR, "config_error", "msg", why, NULL);
			if (c->log.target != LOG_TARGET_STDERR)  /* detached: stderr is still the caller's */
				fprintf(stderr, "mailwarden: %s\n", why);
		}
		if (m.pidfile[0])
			pidfile_release(m.pidfile);
		smtpd_assets_free(&m.assets);
		rules_watch_free(m.rules);
		bayes_store_free(m.bayes);
		yara_watch_free(m.yara);
		config_free(c);
		return 1;
	}
	if (detached >= 0 && !pidfile_update(m.pidfile))
		log_event(LOG_ERR, "pidfile_error", "file", m.pidfile, "msg", strerror(errno), NULL);
	detach_done(detached);
	if (detached >= 0) {
		/* stderr is /dev/null now: syslog, for this process and every
		 * child, after a reload too (a reloaded log.target: stderr used
		 * to send the master's and the queue's lines to /dev/null). */
		log_pin_syslog();
		c->log.target = LOG_TARGET_SYSLOG;
		log_init("master", c->log.target, c->log.format, c->log.level);
	}
	signal(SIGPIPE, SIG_IGN);
	smtpd_assets_use(&m.assets);
	scanner_rules_use(rules_watch_set(m.rules));
	/* One brake on failed logins for every smtpd, restarted or reloaded
	 * ones included (issue 16 item 9): mapped before any fork. */
	struct penalty_table *penalties = penalty_new(true);
	if (!penalties)
		log_event(LOG_ERR, "auth_error", "msg", "no shared failure table: each smtpd counts alone", NULL);
	smtpd_penalties_use(penalties);
	/* Every child counts into one block (util/metrics.h): mapped before any fork. */
	if (metrics_map() < 0)
		log_event(LOG_ERR, "metrics_error", "msg", "no shared counter block: the metrics show the queue's counts only", NULL);
	m.metrics_listen = c->metrics.listen ? xstrdup(c->metrics.listen) : NULL;

	int rc = master_loop(&m);
	log_event(LOG_INFO, "stopped", NULL);
	penalty_free(penalties);
	listeners_close(&m.listeners);
	if (m.metrics_fd >= 0)
		close(m.metrics_fd);
	free(m.metrics_listen);
	event_base_free(m.base);
	smtpd_assets_free(&m.assets);
	rules_watch_free(m.rules);
	bayes_store_free(m.bayes);
	yara_watch_free(m.yara);
	config_free(m.config);
	pidfile_release(m.pidfile);
	return rc;
}
