/*
 * See scanner.h. Runs in the scanner process: the main thread owns the
 * channels and the event loop; SCAN_WORKERS threads (util/offload.h) run
 * the checks, each on one message at a time, and the result goes back to
 * the queue from the loop.
 */
#include "content/scanner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/authdb.h"
#include "config/config.h"
#include "content/authdns.h"
#include "content/bayes.h"
#include "content/bayes_autolearn.h"
#include "content/check.h"
#include "content/dmarclib.h"
#include "content/job.h"
#include "content/rules.h"
#include "content/signkeys.h"
#include "content/filetype.h"
#include "content/yara.h"
#include "dns/dns.h"
#include "ipc/channel.h"
#include "ipc/child_fds.h"
#include "ipc/ctl.h"
#include "ipc/txn.h"
#include "scan/policy.h"
#include "sandbox/sandbox.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/stopsig.h"
#include "util/memfd.h"
#include "util/offload.h"
#include "verdict/points.h"

#define SCAN_WORKERS 2

/* One message from the queue. */
struct scan_task {
	struct scanner *s;
	unsigned gen;                 /* the queue channel it came on (see struct scanner) */
	uint32_t reqid;
	int fd;                       /* the message: a sealed memfd */
	const char *error;            /* the message could not be read */
	int rewrite_fd;               /* job.rewrite, sealed for the queue; -1: none */
	struct ipc_msg *sample;       /* for the master to learn (scan.bayes_autolearn), or NULL */
	struct content_job job;
	struct authdns authdns;       /* DKIM keys and DMARC records, fetched before the checks */
};

struct scanner {
	const struct config *config;
	struct event_base *base;
	struct channel *queue;        /* NULL while the queue is away */
	struct channel *control;      /* the master's; NULL once it closed (and freed itself) */
	unsigned gen;                 /* bumped whenever the queue channel changes */
	struct offload *workers;      /* the checks run there (util/offload.h) */
	const struct auth_db *senders;  /* the sender-login table (scanner_prepare) */
	const struct rule_set *rules;   /* scan.rules (scanner_prepare) */
	const struct bayes_model *bayes;  /* state_dir/bayes.db (scanner_prepare) */
	const struct signkeys *signkeys;  /* scan.dkim_sign (scanner_prepare) */
	const struct yara_engine *yara;   /* scan.yara (scanner_prepare) */
	struct dns *dns;                /* for DKIM and DMARC records; NULL: none (temperror) */
	/* The policy when the configuration has no scan: section: every
	 * check at its default, so REL-3's from_binding still refuses. */
	struct scan_direction defaults;
	size_t in_flight;
	bool stopping;
};

/* Loaded by scanner_prepare, before the chroot hides the file. */
static struct auth_db *prepared_senders;
/* scan.rules as the master compiled and checked it (content/rules_watch.h),
 * inherited through fork: the scanner reads no rule file. NULL: none. */
static const struct rule_set *inherited_rules;
/* state_dir/bayes.db, read whole before the chroot; NULL: not trained. */
static struct bayes_model *prepared_bayes;
/* scan.dkim_sign's keys, read before the chroot. */
static struct signkeys *prepared_signkeys;
/* scan.yara's rules, compiled before the chroot; NULL: none. */
static struct yara_engine *prepared_yara;
/* /etc/resolv.conf's servers, read before the chroot ("": none). */
static char prepared_resolvers[1024];

/* --- worker threads ---------------------------------------------------------- */

/* The rewritten message goes back as a sealed memfd (util/memfd.h): the
 * queue reads exactly these bytes, and nothing else through it. */
static void seal_rewrite(struct scan_task *t)
{
	struct content_job *job = &t->job;
	if (!job->rewrite || t->error)
		return;
	t->rewrite_fd = memfd_sealed_from(job->rewrite, job->rewrite_len, "mailwarden-rewrite");
	if (t->rewrite_fd < 0)
		t->error = "rewritten message could not be sealed";
	job->result.rewritten = t->rewrite_fd >= 0;
	job->result.rewritten_size = job->result.rewritten ? job->rewrite_len : 0;
	job->result.stripped = job->result.rewritten && job->stripped;
}

/* Read the message and run every check the policy switches on; a check
 * after one that replaced the message sees the replacement. The view is
 * read into memory rather than mapped: unmapping in a process with
 * several threads costs a TLB shootdown on every CPU, per message (it was
 * the largest item in the scanner's profile), and a read copies no more
 * than the page faults of a fresh mapping would touch. */
static void run_checks(struct scan_task *t)
{
	struct stat st;
	if (fstat(t->fd, &st) < 0 || (uint64_t)st.st_size != t->job.req.size) {
		t->error = "message view has the wrong size";
		return;
	}
	size_t len = (size_t)st.st_size;
	char *msg = xmalloc(len + 1);
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(t->fd, msg + done, len - done, (off_t)done);
		if (n <= 0 && !(n < 0 && errno == EINTR)) {
			t->error = "message view cannot be read";
			free(msg);
			return;
		}
		done += n > 0 ? (size_t)n : 0;
	}
	content_job_run(&t->job, msg, len);
	free(msg);
}

/* A message the checks judged clearly spam or ham goes to the master's
 * Bayes learner (bayes_autolearn.h), with the tokens the bayes check took. */
static void take_sample(struct scan_task *t)
{
	struct content_job *job = &t->job;
	if (t->error || !job->learn_tokens.n || !job->config->scan)
		return;
	enum bayes_autolearn_class cls = bayes_autolearn_judge(&job->config->scan->autolearn, &job->req, &job->result);
	if (cls == BAYES_AUTOLEARN_NONE)
		return;
	t->sample = xmalloc(sizeof(*t->sample));
	ctl_put_bayes_sample(t->sample, cls == BAYES_AUTOLEARN_SPAM, job->learn_id, job->learn_tokens.h,
			     job->learn_tokens.n);
}

/* Worker thread: the checks, then the view is closed. */
static void task_run(void *arg)
{
	struct scan_task *t = arg;
	run_checks(t);
	take_sample(t);
	seal_rewrite(t);
	content_job_clear(&t->job);
	close(t->fd);
	t->fd = -1;
}

/* --- main thread ------------------------------------------------------------- */

static void log_result(const struct content_job *job)
{
	const struct ipc_scan_result *r = &job->result;
	char syms[1024] = "";
	size_t used = 0;
	for (uint32_t i = 0; i < r->n_symbols && used < sizeof(syms); i++) {
		char pts[POINTS_TEXT_MAX];
		int n = snprintf(syms + used, sizeof(syms) - used, "%s%s(%s)", used ? "," : "", r->symbols[i].name,
				 points_format(r->symbols[i].points, pts, sizeof(pts)));
		used += n > 0 ? (size_t)n : 0;
	}
	log_event(LOG_INFO, "content_scanned", "queue_id", job->req.queue_id, "size", log_u64(job->req.size),
		  "from", job->req.sender, "nrcpt", log_u64(job->req.n_rcpts),
		  "auth", job->req.auth[0] ? job->req.auth : "-", "smtp_symbols", log_u64(job->req.n_symbols),
		  "symbols", syms[0] ? syms : "none", "refused", r->refused ? "yes" : "no", NULL);
}

static void maybe_stop(struct scanner *s)
{
	if (s->stopping && s->in_flight == 0)
		event_base_loopbreak(s->base);
}

/* Back on the loop: log the result and answer the queue. */
static void task_done(void *arg)
{
	struct scan_task *t = arg;
	struct scanner *s = t->s;
	s->in_flight--;
	if (t->error)
		log_event(LOG_ERR, "scan_error", "queue_id", t->job.req.queue_id, "msg", t->error, NULL);
	else
		log_result(&t->job);
	/* A result for a queue that went away meanwhile is dropped: the new
	 * queue never asked for it. An unreadable view gets no answer: the
	 * queue's deadline decides (fail closed). */
	if (!t->error && s->queue && t->gen == s->gen) {
		struct ipc_msg *m = xmalloc(sizeof(*m));
		ipc_scan_result_encode(m, t->reqid, &t->job.result);
		channel_send(s->queue, m, t->rewrite_fd);  /* dup'ed for the send */
		free(m);
	}
	if (t->rewrite_fd >= 0)
		close(t->rewrite_fd);
	if (t->sample && s->control)
		channel_send(s->control, t->sample, -1);
	free(t->sample);
	free(t);
	maybe_stop(s);
}

/* The records are in (or failed): on to the workers. */
static void records_fetched(void *arg)
{
	struct scan_task *t = arg;
	t->job.authdns = &t->authdns;
	offload_run(t->s->workers, task_run, task_done, t);
}

/* Is check name on in the job's policy? */
static bool check_on(const struct content_job *job, const char *name)
{
	int i = content_check_index(name, strlen(name));
	return i >= 0 && job->dir->content[i].action != SCAN_CHECK_OFF;
}

/* DKIM and DMARC need DNS records, which the checks may not fetch
 * themselves (check.h): the main thread reads the header section (a
 * bounded read of the sealed view), looks the names up on the loop and
 * hands the message to the workers when all have answered. */
static void fetch_records(struct scan_task *t)
{
	bool dmarc = check_on(&t->job, "dmarc");
	if (!dmarc && !check_on(&t->job, "dkim")) {
		offload_run(t->s->workers, task_run, task_done, t);
		return;
	}
	size_t want = t->job.req.size < AUTHDNS_HEADER_MAX ? (size_t)t->job.req.size : AUTHDNS_HEADER_MAX;
	char *head = xmalloc(want + 1);
	ssize_t got = pread(t->fd, head, want, 0);
	size_t len = got > 0 ? (size_t)got : 0;
	/* dmarc needs the DKIM results, so its keys too */
	authdns_plan(&t->authdns, head, content_header_end(head, len), true, dmarc, dmarclib_org_domain);
	free(head);
	authdns_fetch(&t->authdns, t->s->dns, records_fetched, t);
}

static void on_queue_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct scanner *s = arg;
	struct scan_task *t = xcalloc(1, sizeof(*t));
	struct content_job *job = &t->job;
	if (m->type != IPC_SCAN_REQUEST || fd < 0 || !ipc_scan_request_decode(m, &job->req)) {
		log_event(LOG_ERR, "ipc_error", "msg", "bad message from queue", "type", ipc_type_name(m->type), NULL);
		if (fd >= 0)
			close(fd);
		free(t);
		return;
	}
	t->s = s;
	t->gen = s->gen;
	t->reqid = m->reqid;
	t->fd = fd;
	t->rewrite_fd = -1;
	/* SCAN-11: the content policy of the session's emergency level. */
	const struct config *lv = config_level(s->config, job->req.level);
	const struct scan_config *sc = lv ? lv->scan : s->config->scan;
	job->config = s->config;
	job->senders = s->senders;
	job->rules = s->rules;
	job->bayes = s->bayes;
	job->dir = !sc ? &s->defaults : job->req.outbound ? &sc->outbound : &sc->inbound;
	const struct config *rv = job->req.rehearse ? config_level(s->config, job->req.rehearse) : NULL;
	job->rdir = !rv || !rv->scan ? NULL : job->req.outbound ? &rv->scan->outbound : &rv->scan->inbound;
	job->dkim_keys = s->signkeys;
	job->yara = s->yara;
	s->in_flight++;
	fetch_records(t);
}

static void on_queue_closed(struct channel *ch, const char *why, void *arg)
{
	struct scanner *s = arg;
	if (s->queue == ch) {
		s->queue = NULL;
		s->gen++;
	}
	log_event(LOG_INFO, "queue_gone", "msg", why, NULL);
}

/* The master's control channel: the channel to the (new) queue. */
static void on_control_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct scanner *s = arg;
	char peer[16];
	if (!ctl_get_channel(m, fd, peer, sizeof(peer)) || strcmp(peer, "queue") != 0) {
		log_event(LOG_ERR, "ipc_error", "msg", "bad message from master", "type", ipc_type_name(m->type), NULL);
		exit(1);
	}
	if (s->queue)
		channel_free(s->queue);
	s->gen++;
	s->queue = channel_new(s->base, fd, on_queue_msg, on_queue_closed, s);
	log_event(LOG_INFO, "queue_connected", NULL);
}

static void on_control_closed(struct channel *ch, const char *why, void *arg)
{
	struct scanner *s = arg;
	s->control = NULL;
	log_event(LOG_WARNING, "master_lost", "msg", why, NULL);
	event_base_loopbreak(s->base);
}

/* SIGTERM (a stop, or a reload replacing us): finish the messages in hand
 * and answer them, then go; the master's grace period bounds the wait. */
static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct scanner *s = arg;
	log_event(LOG_INFO, "stopping", "in_flight", log_u64(s->in_flight), NULL);
	s->stopping = true;
	maybe_stop(s);
}

/* What `mailwarden learn` taught, read whole (no file access after the
 * chroot); no store yet: no Bayes. A store that cannot be read is an
 * error: the scanner would run with less than the administrator set up. */
static bool load_bayes(const struct config *c)
{
	char path[4200], err[512];
	snprintf(path, sizeof(path), "%s/%s", c->state_dir, BAYES_DB_NAME);
	prepared_bayes = bayes_model_load(path, err, sizeof(err));
	if (!prepared_bayes && err[0]) {
		log_event(LOG_ERR, "bayes_error", "msg", err, NULL);
		return false;
	}
	if (prepared_bayes) {
		unsigned long spam, ham;
		bayes_model_counts(prepared_bayes, &spam, &ham);
		log_event(LOG_INFO, "bayes_loaded", "spam", log_u64(spam), "ham", log_u64(ham), NULL);
	}
	return true;
}

/* The rules' Hyperscan databases (issue 11), from the cache under
 * state_dir where the master's rules compiler wrote them; what is not
 * there yet runs in PCRE2 until the compiler is done and the master
 * starts a scanner that finds it. Before the privilege drop (the cache
 * is root's, and nothing that parses mail writes it). */
static void prepare_fast_rules(const struct config *c, struct rule_set *rs)
{
	char cache[4200], err[256];
	size_t exact, prefilter, pcre, dbs, cached;
	snprintf(cache, sizeof(cache), "%s/%s", c->state_dir, RULES_CACHE_DIR);
	if (!rules_load_fast(rs, cache, err, sizeof(err))) {
		log_event(LOG_WARNING, "rules_fast_unavailable", "msg", err, NULL);
		return;
	}
	rules_fast_report(rs, &exact, &prefilter, &pcre, &dbs, &cached);
	log_event(LOG_INFO, "rules_fast", "exact", log_u64(exact), "prefilter", log_u64(prefilter), "pcre_only",
		  log_u64(pcre), "databases", log_u64(dbs), "cached", log_u64(cached), NULL);
}

/* scan.dkim_sign's private keys, before the chroot; the master's
 * preflight has checked that they load. */
static bool load_signing_keys(const struct config *c)
{
	char err[512];
	prepared_signkeys = signkeys_load(c->scan, err, sizeof(err));
	if (!prepared_signkeys) {
		log_event(LOG_ERR, "config_error", "key", "scan.dkim_sign", "msg", err, NULL);
		return false;
	}
	return true;
}

/* scan.yara's rules, compiled once here, before the chroot hides them
 * (issue 12); the master's preflight has compiled them too, so an error
 * here means they changed since. A changed rule file takes effect with
 * the next scanner (a reload). */
static bool load_yara(const struct config *c)
{
	if (!c->scan || !c->scan->yara)
		return true;
	char err[1200];
	prepared_yara = yara_engine_load(c->scan->yara->rules, err, sizeof(err));
	if (!prepared_yara) {
		log_event(LOG_ERR, "config_error", "key", "scan.yara.rules", "msg", err, NULL);
		return false;
	}
	log_event(LOG_INFO, "yara_loaded", "rules", log_u64(yara_engine_rules(prepared_yara)), "files",
		  log_u64(yara_engine_files(prepared_yara)), "path", c->scan->yara->rules, NULL);
	return true;
}

/* The resolver of the DKIM and DMARC lookups: scan.dns_servers, else the
 * gateway's dns.servers, else the system's (as smtpd's checks do). */
static struct dns *records_resolver(struct event_base *base, const struct config *c)
{
	if (!c->scan)
		return NULL;
	const char *servers = c->scan->dns_servers ? c->scan->dns_servers
			      : c->dns.servers       ? c->dns.servers
			      : prepared_resolvers[0] ? prepared_resolvers : NULL;
	struct dns *d = dns_new(base, servers, c->scan->dns_timeout_ms, 2);
	if (!d)
		log_event(LOG_ERR, "scan_dns_error", "msg", "no resolver: DKIM and DMARC answer temperror", NULL);
	return d;
}

/* The sender-login table comes from the file, read here in the scanner's
 * own child before its privilege drop, not from the master's smtpd
 * assets (inherited through fork, like smtpd's): those hold the password
 * hashes too, which a process that parses hostile content must not have
 * (SEC-1). A reload replaces the scanner, so the new one reads the table
 * again; the master's preflight has checked that it loads. */
bool scanner_prepare(const struct config *c)
{
	char err[512];
	mime_prepare();  /* GMime and its charset converters, while the files are in reach */
	filetype_prepare();  /* libmagic's database, before the chroot hides it */
	prepared_senders = auth_db_load_senders(c, err, sizeof(err));
	if (!prepared_senders) {
		log_event(LOG_ERR, "config_error", "msg", err, NULL);
		return false;
	}
	if (c->scan && c->scan->n_rules) {
		if (!inherited_rules) {  /* the master always hands one over: a bug, not a setup */
			log_event(LOG_ERR, "config_error", "key", "scan.rules", "msg", "no compiled rule set", NULL);
			return false;
		}
		log_event(LOG_INFO, "rules_loaded", "rules", log_u64(rules_count(inherited_rules)), "not_supported",
			  log_u64(rules_unsupported(inherited_rules)), NULL);
		/* Our copy of the master's set (fork): its databases are ours. */
		prepare_fast_rules(c, (struct rule_set *)inherited_rules);
	}
	if (!load_bayes(c) || !load_signing_keys(c) || !load_yara(c))
		return false;
	if (!dmarclib_prepare(DMARCLIB_SUFFIX_FILE))
		log_event(LOG_WARNING, "dmarc_suffixes", "file", DMARCLIB_SUFFIX_FILE, "msg",
			  "public suffix list not read: organizational domains are the last two labels", NULL);
	if (c->scan && !c->scan->dns_servers && !c->dns.servers)
		dns_system_servers(prepared_resolvers, sizeof(prepared_resolvers));
	return true;
}

void scanner_rules_use(const struct rule_set *rs)
{
	inherited_rules = rs;
}

int scanner_main(const struct config *c, const struct child_fds *fds)
{
	struct scanner s = { .config = c, .senders = prepared_senders, .rules = inherited_rules, .bayes = prepared_bayes,
			     .signkeys = prepared_signkeys, .yara = prepared_yara };
	scan_direction_defaults(&s.defaults);
	s.base = event_base_new();
	if (s.base) {
		s.workers = offload_new(s.base, SCAN_WORKERS);
		s.dns = records_resolver(s.base, c);
	}
	if (!s.base || !s.workers) {
		log_event(LOG_ERR, "scanner_error", "msg", "event loop or worker threads could not be started", NULL);
		return 1;
	}
	s.control = channel_new(s.base, fds->fds[0], on_control_msg, on_control_closed, &s);
	struct event *term = evsignal_new(s.base, SIGTERM, on_sigterm, &s);
	struct event *intr = evsignal_new(s.base, SIGINT, on_sigterm, &s);
	event_add(term, NULL);
	event_add(intr, NULL);
	/* Last: everything that opens a file or makes a thread is done. */
	if (!sandbox_enter(SANDBOX_SCANNER, c->security.seccomp))
		return 1;
	stopsig_release();
	log_event(LOG_INFO, "ready", "workers", log_u64(SCAN_WORKERS), NULL);
	event_base_dispatch(s.base);
	/* At exit (issue 18 item 12): the workers finish the messages in
	 * hand and are joined; the answers still due go out if they can.
	 * Lookups still open end first (temperror), so their messages reach
	 * the workers before these stop. */
	if (s.dns)
		dns_free(s.dns);
	offload_free(s.workers);
	if (s.queue)
		channel_free(s.queue);
	if (s.control)
		channel_free(s.control);
	event_free(term);
	event_free(intr);
	event_base_free(s.base);
	auth_db_free(prepared_senders);
	prepared_senders = NULL;
	/* inherited_rules is the master's (our copy goes with the process). */
	bayes_model_free(prepared_bayes);
	prepared_bayes = NULL;
	signkeys_free(prepared_signkeys);
	prepared_signkeys = NULL;
	yara_engine_free(prepared_yara);
	prepared_yara = NULL;
	return 0;
}
