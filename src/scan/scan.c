/*
 * The scanner pipeline: stages and symbols. See scan.h.
 * Runs in smtpd. The loaded files and the resolver are per process (one
 * snapshot each, set up once before and after the privilege drop); the
 * rest is per session.
 */
#include "scan/scan.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dns/dns.h"
#include "ipc/txn.h"
#include "scan/data.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/offload.h"
#include "verdict/points.h"

#define SYMBOLS_MAX 48
#define RESOLVERS_MAX 256

struct scan_symbol {
	char name[32];
	int points;          /* hundredths */
	bool message;        /* per message (MAIL and later), dropped by scan_message_reset */
	bool refused;        /* it refused a command: not part of the message's score */
};

struct scan_job {
	struct scan_session *ss;
	size_t check;        /* index into scan_checks[] */
	bool finished;
	uint64_t started_us; /* for the check's latency (metrics) */
};

struct scan_session {
	const struct config *c;
	const struct scan_config *sc;
	const struct scan_direction *dir;
	const struct scan_config *rsc;       /* the rehearsed level's scan section, or NULL */
	const struct scan_direction *rdir;   /* ... and its direction */
	char rehearsal_conn[48];             /* the rehearsed refusal of the connection */
	char rehearsal_msg[48];              /* ... of the current message */
	struct scan_facts facts;
	struct scan_symbol symbols[SYMBOLS_MAX];
	size_t n_symbols;
	/* the stage being run */
	enum scan_stage stage;
	size_t next;
	bool running, in_call, dead;
	bool refused;
	char reply[510];     /* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with CRLF */
	scan_done_cb done;
	void *done_arg;
	struct scan_job job;
};

/* Per process: loaded before the drop, used read-only after it. */
static struct scan_data *process_data;
static struct dns *process_dns;
static struct event_base *process_base;
static struct offload *process_offload;   /* blocking work (greylist's SQLite) */
static char process_resolvers[RESOLVERS_MAX];

const struct scan_data *scan_process_data(void)
{
	return process_data;
}

void scan_replace_data(struct scan_data *fresh)
{
	if (process_data) {
		fresh->greylist = process_data->greylist;
		process_data->greylist = NULL;
	}
	scan_data_free(process_data);
	process_data = fresh;
}

int scan_check_index(const char *name, size_t len)
{
	for (size_t i = 0; i < scan_n_checks; i++)
		if (strlen(scan_checks[i]->name) == len && memcmp(scan_checks[i]->name, name, len) == 0)
			return (int)i;
	return -1;
}

bool scan_prepare(const struct config *c)
{
	if (!c->scan)
		return true;
	process_data = scan_data_load(c);
	scan_data_log(process_data, c->scan);
	/* Fail closed (issue 16): the master checked the files before the
	 * fork; one that vanished since then stops this smtpd, so no session
	 * is served without a list the administrator relies on. */
	const char *missing = scan_data_missing_required(process_data, c->scan);
	if (missing) {
		log_event(LOG_ERR, "scan_file_required", "file", missing, "msg",
			  "cannot load a scanner file that is not optional; not serving", NULL);
		return false;
	}
	if (!c->scan->dns_servers)
		dns_system_servers(process_resolvers, sizeof(process_resolvers));
	return true;
}

void scan_start(struct event_base *base, const struct config *c)
{
	if (!c->scan)
		return;
	process_base = base;
	/* scan.dns_servers, else the gateway's dns.servers, else the system's. */
	const char *servers = c->scan->dns_servers ? c->scan->dns_servers
			      : c->dns.servers       ? c->dns.servers
			      : process_resolvers[0] ? process_resolvers : NULL;
	process_dns = dns_new(base, servers, c->scan->dns_timeout_ms, 2);
	if (!process_dns)
		log_event(LOG_ERR, "scan_dns_error", "msg", "no resolver: DNS checks answer temperror", NULL);
	/* One thread: the greylist's SQLite handle is used by it alone. */
	process_offload = offload_new(base, 1);
	if (!process_offload)
		log_event(LOG_ERR, "scan_error", "msg", "no worker thread: checks that need one fail open", NULL);
}

struct offload *scan_job_offload(struct scan_job *job)
{
	return process_offload;
}

struct scan_session *scan_session_new(const struct config *c, const struct sockaddr *client,
				      const char *client_ip, bool outbound)
{
	if (!c->scan)
		return NULL;
	struct scan_session *ss = xcalloc(1, sizeof(*ss));
	ss->c = c;
	ss->sc = c->scan;
	ss->dir = outbound ? &c->scan->outbound : &c->scan->inbound;
	memcpy(&ss->facts.client, client,
	       client->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	snprintf(ss->facts.client_ip, sizeof(ss->facts.client_ip), "%s", client_ip);
	ss->facts.outbound = outbound;
	ss->job.ss = ss;
	return ss;
}

void scan_session_free(struct scan_session *ss)
{
	if (!ss)
		return;
	if (ss->running && !ss->job.finished) {
		ss->dead = true;  /* freed when the check in flight reports done */
		return;
	}
	free(ss);
}

struct scan_facts *scan_session_facts(struct scan_session *ss)
{
	return &ss->facts;
}

void scan_session_set_outbound(struct scan_session *ss)
{
	if (!ss)
		return;
	ss->facts.outbound = true;
	ss->facts.authenticated = true;
	ss->dir = &ss->sc->outbound;
	if (ss->rsc)
		ss->rdir = &ss->rsc->outbound;
}

void scan_session_rehearse(struct scan_session *ss, const struct config *rv)
{
	if (!ss || !rv || !rv->scan)
		return;
	ss->rsc = rv->scan;
	ss->rdir = ss->facts.outbound ? &rv->scan->outbound : &rv->scan->inbound;
}

const char *scan_session_rehearsal(const struct scan_session *ss)
{
	if (!ss)
		return "";
	return ss->rehearsal_conn[0] ? ss->rehearsal_conn : ss->rehearsal_msg;
}

/* The rehearsed level would refuse on this hit where the level in force
 * does not. */
static void rehearse_hit(struct scan_session *ss, const struct scan_check *chk, const char *symbol)
{
	char *note = ss->stage >= SCAN_STAGE_MAIL ? ss->rehearsal_msg : ss->rehearsal_conn;
	log_event(LOG_INFO, "rehearsal", "client", ss->facts.client_ip, "would", "refuse", "by", "checks", "check",
		  chk->name, "symbol", symbol, NULL);
	if (!note[0])
		snprintf(note, sizeof(ss->rehearsal_msg), "checks.%s", chk->name);
}

struct scan_facts *scan_job_facts(struct scan_job *job) { return &job->ss->facts; }
struct dns *scan_job_dns(struct scan_job *job) { return process_dns; }
struct event_base *scan_job_base(struct scan_job *job) { return process_base; }
const struct config *scan_job_config(struct scan_job *job) { return job->ss->c; }
const struct scan_config *scan_job_scan_config(struct scan_job *job) { return job->ss->sc; }
bool scan_job_alive(const struct scan_job *job) { return !job->ss->dead; }

/* Client data (PTR names, DNSBL TXT, HELO) goes into replies and logs:
 * printable ASCII only. */
static void safe_copy(char *out, size_t cap, const char *in)
{
	size_t n = 0;
	for (; in && *in && n + 1 < cap; in++)
		out[n++] = (*in >= ' ' && *in <= '~') ? *in : '?';
	out[n] = '\0';
}

void scan_hit(struct scan_job *job, const char *symbol, int points, const char *detail)
{
	if (!job->ss->dead)
		scan_hit_points(job, symbol, points >= 0 ? points : job->ss->dir->checks[job->check].points, detail);
}

void scan_hit_points(struct scan_job *job, const char *symbol, int pts, const char *detail)
{
	struct scan_session *ss = job->ss;
	if (ss->dead)
		return;
	const struct scan_check *chk = scan_checks[job->check];
	const struct scan_check_policy *pol = &ss->dir->checks[job->check];
	bool refuse = pol->action == SCAN_CHECK_REFUSE;
	char shown[300];
	safe_copy(shown, sizeof(shown), detail);
	if (ss->n_symbols < SYMBOLS_MAX) {
		struct scan_symbol *sym = &ss->symbols[ss->n_symbols++];
		safe_copy(sym->name, sizeof(sym->name), symbol);
		sym->points = pts;
		sym->message = ss->stage >= SCAN_STAGE_MAIL;
		sym->refused = refuse;
	}
	char pbuf[POINTS_TEXT_MAX];
	points_format(pts, pbuf, sizeof(pbuf));
	log_event(LOG_INFO, "scan_hit", "check", chk->name, "symbol", symbol, "points", pbuf,
		  "action", refuse ? "refuse" : "score", "client", ss->facts.client_ip, "detail", shown, NULL);
	if (ss->rdir && !refuse && ss->rdir->checks[job->check].action == SCAN_CHECK_REFUSE)
		rehearse_hit(ss, chk, symbol);
	if (refuse && !ss->refused) {
		ss->refused = true;
		const char *reply = pol->reply ? pol->reply : chk->default_reply;
		snprintf(ss->reply, sizeof(ss->reply), "%s%s%s", reply, shown[0] ? ": " : "", shown);
	}
}

static void finish(struct scan_session *ss)
{
	ss->running = false;
	scan_done_cb done = ss->done;
	ss->done = NULL;
	if (done)
		done(ss->done_arg, ss->refused, ss->refused ? ss->reply : NULL);
}

static void advance(struct scan_session *ss)
{
	while (!ss->refused && ss->next < scan_n_checks) {
		size_t i = ss->next++;
		const struct scan_check *chk = scan_checks[i];
		if (!chk->stage[ss->stage] || ss->dir->checks[i].action == SCAN_CHECK_OFF)
			continue;
		if (chk->reputation && ss->facts.allowlisted)
			continue;
		ss->job.check = i;
		ss->job.finished = false;
		ss->job.started_us = metrics_now_us();
		ss->in_call = true;
		chk->stage[ss->stage](&ss->job);
		ss->in_call = false;
		if (!ss->job.finished)
			return;  /* scan_job_done() continues */
	}
	finish(ss);
}

void scan_job_done(struct scan_job *job)
{
	struct scan_session *ss = job->ss;
	job->finished = true;
	metrics_smtp_check_us(job->check, metrics_now_us() - job->started_us);
	if (ss->in_call)
		return;
	if (ss->dead) {
		free(ss);
		return;
	}
	advance(ss);
}

void scan_run(struct scan_session *ss, enum scan_stage stage, scan_done_cb done, void *arg)
{
	ss->stage = stage;
	ss->next = 0;
	ss->refused = false;
	ss->reply[0] = '\0';
	ss->done = done;
	ss->done_arg = arg;
	ss->running = true;
	advance(ss);
}

void scan_message_reset(struct scan_session *ss)
{
	size_t kept = 0;
	for (size_t i = 0; i < ss->n_symbols; i++)
		if (!ss->symbols[i].message)
			ss->symbols[kept++] = ss->symbols[i];
	ss->n_symbols = kept;
	ss->facts.spf = NULL;
	ss->rehearsal_msg[0] = '\0';
}

/* A fact that goes into a header (RFC 8601): copied as a token, anything
 * outside it (a hostile PTR name) replaced by '?'. */
static void copy_token(char *out, size_t cap, const char *in)
{
	size_t i = 0;
	for (; in && in[i] && i + 1 < cap; i++) {
		char c = in[i];
		out[i] = c <= ' ' || c > '~' || c == ';' || c == '(' || c == ')' || c == '\\' ? '?' : c;
	}
	out[i] = '\0';
}

void scan_eom_facts(struct scan_session *ss, struct ipc_eom *e)
{
	const struct scan_facts *f = &ss->facts;
	e->outbound = f->outbound;
	copy_token(e->iprev, sizeof(e->iprev), f->iprev);
	copy_token(e->ptr, sizeof(e->ptr), f->ptr);
	copy_token(e->spf, sizeof(e->spf), f->spf);
	if (f->spf) {
		const char *at = strrchr(f->sender, '@');
		copy_token(e->spf_domain, sizeof(e->spf_domain), at ? at + 1 : f->helo);
	}
	e->n_symbols = 0;
	for (size_t i = 0; i < ss->n_symbols && e->n_symbols < IPC_SYMBOLS_MAX; i++) {
		if (ss->symbols[i].refused)
			continue;  /* it refused a command: not part of the message's score */
		struct ipc_symbol *sym = &e->symbols[e->n_symbols++];
		snprintf(sym->name, sizeof(sym->name), "%s", ss->symbols[i].name);
		sym->points = ss->symbols[i].points;
	}
}
