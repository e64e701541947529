#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/check.h"
#include "config/config.h"
#include "master/child.h"
#include "master/listeners.h"
#include "master/preflight.h"
#include "master/statedir.h"
#include "queue/queue.h"
#include "scan/scan.h"
#include "scan/watch.h"
#include "smtp/smtpd.h"
#include "util/alloc.h"
#include "util/log.h"

#define KILL_AFTER_GRACE 5   /* seconds past shutdown_grace before SIGKILL */
#define FAST_CRASH 2         /* a generation that dies within this many seconds ... */
#define RESTART_PAUSE 1      /* ... is restarted only after this pause */

enum master_state { MASTER_RUNNING, MASTER_RESTARTING, MASTER_STOPPING };

struct generation {
	pid_t queue;
	pid_t *smtpd;
	size_t n_smtpd;
	time_t started;
	time_t stop_deadline;    /* SIGKILL whatever is left after this */
	bool smtpd_stopping, queue_stopping;
};

struct master {
	struct config *config;
	struct config *pending;  /* a reloaded configuration waiting for the next generation */
	struct smtpd_assets assets, pending_assets;  /* keys, certificates, credentials */
	struct listener_set listeners;
	struct generation gen;
	enum master_state state;
};

static struct privdrop_target smtpd_target(const struct config *c)
{
	static char empty[4096];
	snprintf(empty, sizeof(empty), "%s/empty", c->state_dir);
	return (struct privdrop_target){ .user = c->smtpd_user, .workdir = empty, .chroot_dir = empty };
}

static struct privdrop_target queue_target(const struct config *c)
{
	return (struct privdrop_target){ .user = c->user, .workdir = c->state_dir, .chroot_dir = NULL };
}

static const struct child_spec smtpd_spec = { "smtpd", smtpd_target, smtpd_main, scan_prepare };
static const struct child_spec queue_spec = { "queue", queue_target, queue_main, NULL };

static void log_spawned(const char *child, pid_t pid)
{
	log_event(LOG_INFO, "spawned", "child", child, "pid", log_u64((unsigned long long)pid), NULL);
}

/* One socketpair per smtpd; the queue gets one end of each. */
static bool generation_start(struct master *m)
{
	const struct config *c = m->config;
	struct generation *g = &m->gen;
	size_t n = c->smtpd_processes;
	/* The scanner files as the new smtpds will load them; the queue
	 * inherits this snapshot and hands smtpd any later version. */
	(void)scan_watch_changed(&scan_watch_at_fork, c);
	int (*pairs)[2] = xcalloc(n, sizeof(*pairs));
	for (size_t i = 0; i < n; i++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pairs[i]) < 0) {
			log_msg(LOG_ERR, "spawn_error", "socketpair: %s", strerror(errno));
			for (size_t j = 0; j < i; j++) {
				close(pairs[j][0]);
				close(pairs[j][1]);
			}
			free(pairs);
			return false;
		}
	memset(g, 0, sizeof(*g));
	g->started = time(NULL);
	g->smtpd = xcalloc(n, sizeof(pid_t));
	g->n_smtpd = n;

	int *queue_fds = xcalloc(n, sizeof(int));
	for (size_t i = 0; i < n; i++)
		queue_fds[i] = pairs[i][0];
	g->queue = child_spawn(c, &queue_spec, &(struct child_fds){ queue_fds, n });
	log_spawned("queue", g->queue);
	free(queue_fds);

	size_t nl = m->listeners.n;
	int *smtpd_fds = xcalloc(nl + 1, sizeof(int));
	for (size_t i = 0; i < nl; i++)
		smtpd_fds[i + 1] = m->listeners.items[i].fd;
	smtpd_assets_use(&m->assets);
	for (size_t i = 0; i < n; i++) {
		smtpd_fds[0] = pairs[i][1];
		g->smtpd[i] = child_spawn(c, &smtpd_spec, &(struct child_fds){ smtpd_fds, nl + 1 });
		log_spawned("smtpd", g->smtpd[i]);
	}
	free(smtpd_fds);
	for (size_t i = 0; i < n; i++) {
		close(pairs[i][0]);
		close(pairs[i][1]);
	}
	free(pairs);
	return true;
}

static size_t smtpd_alive(const struct generation *g)
{
	size_t alive = 0;
	for (size_t i = 0; i < g->n_smtpd; i++)
		alive += g->smtpd[i] > 0;
	return alive;
}

static bool generation_empty(const struct generation *g)
{
	return g->queue <= 0 && smtpd_alive(g) == 0;
}

/* Stop order: smtpd first (they may still be committing to the queue), then the queue. */
static void generation_advance_stop(struct master *m)
{
	struct generation *g = &m->gen;
	if (!g->smtpd_stopping) {
		g->smtpd_stopping = true;
		g->stop_deadline = time(NULL) + m->config->shutdown_grace + KILL_AFTER_GRACE;
		for (size_t i = 0; i < g->n_smtpd; i++)
			if (g->smtpd[i] > 0)
				kill(g->smtpd[i], SIGTERM);
	}
	if (smtpd_alive(g) == 0 && !g->queue_stopping) {
		g->queue_stopping = true;
		if (g->queue > 0)
			kill(g->queue, SIGTERM);
	}
	if (time(NULL) >= g->stop_deadline) {
		for (size_t i = 0; i < g->n_smtpd; i++)
			if (g->smtpd[i] > 0)
				kill(g->smtpd[i], SIGKILL);
		if (g->queue > 0)
			kill(g->queue, SIGKILL);
	}
}

static const char *child_name(const struct generation *g, pid_t pid)
{
	if (pid == g->queue)
		return "queue";
	for (size_t i = 0; i < g->n_smtpd; i++)
		if (g->smtpd[i] == pid)
			return "smtpd";
	return NULL;
}

static void forget_child(struct generation *g, pid_t pid)
{
	if (pid == g->queue)
		g->queue = 0;
	for (size_t i = 0; i < g->n_smtpd; i++)
		if (g->smtpd[i] == pid)
			g->smtpd[i] = 0;
}

static void reap_children(struct master *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		const char *name = child_name(&m->gen, pid);
		if (!name)
			continue;
		char how[32];
		if (WIFSIGNALED(status))
			snprintf(how, sizeof(how), "signal %d", WTERMSIG(status));
		else
			snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
		bool expected = m->state != MASTER_RUNNING;
		log_event(expected ? LOG_INFO : LOG_ERR, "child_exited", "child", name,
			  "pid", log_u64((unsigned long long)pid), "status", how, NULL);
		forget_child(&m->gen, pid);
		if (!expected) {
			log_event(LOG_WARNING, "restarting", "msg", "a child died; restarting all children", NULL);
			m->state = MASTER_RESTARTING;
		}
	}
}

/* The files the configuration names (preflight.h); warnings are logged
 * at once, problems added to errs. */
static bool preflight_passes(const struct config *c, struct config_errors *errs)
{
	struct config_errors warnings = { 0 };
	size_t before = errs->n;
	preflight_check(c, errs, &warnings);
	config_warnings(c, &warnings);   /* what check-config warns about, logged */
	for (size_t i = 0; i < warnings.n; i++)
		log_event(LOG_WARNING, "config_warning", "msg", warnings.items[i], NULL);
	config_errors_free(&warnings);
	return errs->n == before;
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
	char why[512] = "";
	/* Certificates and credentials are read again on every reload (TLS
	 * keys rotate without a restart); a bad file keeps the running set. */
	if (!fresh || !statedir_prepare(fresh) || !smtpd_assets_load(fresh, &assets, why, sizeof(why)) ||
	    !listeners_bind(fresh, &m->listeners, &bound)) {
		if (why[0])
			log_event(LOG_ERR, "config_error", "msg", why, NULL);
		log_event(LOG_ERR, "reload", "result", "failed", "msg", "keeping the running configuration", NULL);
		smtpd_assets_free(&assets);
		if (fresh)
			config_free(fresh);
		return;
	}
	smtpd_assets_free(&m->pending_assets);
	m->pending_assets = assets;
	m->listeners = bound;
	if (m->pending)
		config_free(m->pending);
	m->pending = fresh;
	m->state = MASTER_RESTARTING;
	log_event(LOG_INFO, "reload", "result", "ok", "config", fresh->source, NULL);
}

static void next_generation(struct master *m)
{
	free(m->gen.smtpd);
	m->gen.smtpd = NULL;
	if (time(NULL) - m->gen.started < FAST_CRASH)
		sleep(RESTART_PAUSE);
	if (m->pending) {
		config_free(m->config);
		m->config = m->pending;
		m->pending = NULL;
		smtpd_assets_free(&m->assets);
		m->assets = m->pending_assets;
		memset(&m->pending_assets, 0, sizeof(m->pending_assets));
		log_init("master", m->config->log.target, m->config->log.format, m->config->log.level);
	}
	m->state = MASTER_RUNNING;
	generation_start(m);
}

static void daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("mailwarden: fork");
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	setsid();
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

/* The signals the master takes synchronously (blocked, then sigtimedwait). */
static void master_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

static int master_loop(struct master *m)
{
	sigset_t set;
	master_signals(&set);
	for (;;) {
		siginfo_t info;
		int sig = sigtimedwait(&set, &info, &(struct timespec){ .tv_sec = 1 });
		if (sig == SIGTERM || sig == SIGINT) {
			if (m->state != MASTER_STOPPING)
				log_event(LOG_INFO, "stopping", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
			m->state = MASTER_STOPPING;
		} else if (sig == SIGHUP && m->state == MASTER_RUNNING) {
			reload(m);
		}
		reap_children(m);
		if (m->state == MASTER_RUNNING)
			continue;
		if (!generation_empty(&m->gen)) {
			generation_advance_stop(m);
			continue;
		}
		if (m->state == MASTER_STOPPING)
			return 0;
		next_generation(m);
	}
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
	if (!foreground) {
		c->log.target = LOG_TARGET_SYSLOG;
		daemonize();
	}
	log_init("master", c->log.target, c->log.format, c->log.level);
	log_event(LOG_INFO, "started", "version", MW_VERSION, "config", c->source,
		  "state_dir", c->state_dir, NULL);
	config_warnings(c, &warnings);   /* what check-config warns about, logged */
	for (size_t i = 0; i < warnings.n; i++)
		log_event(LOG_WARNING, "config_warning", "msg", warnings.items[i], NULL);
	config_errors_free(&warnings);

	struct master m = { .config = c, .state = MASTER_RUNNING };
	char why[512] = "";
	if (!statedir_prepare(c) || !smtpd_assets_load(c, &m.assets, why, sizeof(why)) ||
	    !listeners_bind(c, NULL, &m.listeners)) {
		if (why[0]) {
			log_event(LOG_ERR, "config_error", "msg", why, NULL);
			if (foreground && c->log.target != LOG_TARGET_STDERR)
				fprintf(stderr, "mailwarden: %s\n", why);
		}
		smtpd_assets_free(&m.assets);
		config_free(c);
		return 1;
	}
	sigset_t set;
	master_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = generation_start(&m) ? master_loop(&m) : 1;
	log_event(LOG_INFO, "stopped", NULL);
	listeners_close(&m.listeners);
	free(m.gen.smtpd);
	smtpd_assets_free(&m.assets);
	smtpd_assets_free(&m.pending_assets);
	config_free(m.config);
	if (m.pending)
		config_free(m.pending);
	return rc;
}
