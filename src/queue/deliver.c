#include "queue/deliver.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "dns/dns.h"
#include "dns/dnssec.h"
#include "net/addr_text.h"
#include "net/srcaddr.h"
#include "policy/mtasts.h"
#include "policy/rewrite.h"
#include "policy/route.h"
#include "policy/tlspolicy.h"
#include "queue/config.h"
#include "queue/dane_lookup.h"
#include "queue/delays.h"
#include "queue/maildir.h"
#include "queue/msgview.h"
#include "queue/mtasts_lookup.h"
#include "queue/mx.h"
#include "queue/mx_self.h"
#include "queue/requiretls.h"
#include "queue/scheduler.h"
#include "queue/smarthost_auth.h"
#include "queue/tlsrpt_note.h"
#include "smtp/address.h"
#include "smtp/client.h"
#include "tls/tls.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/monotime.h"

#define ADDRS_PER_HOST 8

struct job;

/* One A or AAAA lookup of one MX host. */
struct addr_query {
	struct job *j;
	size_t host;
	int family;
};

/* One next hop's share of a message. */
struct job {
	struct scheduler *sch;
	struct qentry *q;
	struct event_base *base;
	const struct config *c;
	const struct route *route;   /* static route or smart host; NULL: MX */
	char domain[256];            /* MX jobs: the recipient domain */
	char nexthop[300];           /* for logs */
	char pool_key[360];          /* next hop and TLS requirement: what may share a connection */
	char **rcpts;                /* addresses (borrowed from the envelope) */
	size_t *index;               /* their positions in the envelope */
	char **notify, **orcpt;      /* DSN parameters per recipient (borrowed) */
	size_t n;
	char *sender;                /* the sender after rewriting (owned), or NULL */
	struct msgview view;         /* what is sent: added headers, the message up to its end */
	struct srcaddr source;       /* queue.source_address, parsed */
	/* Address resolution: the MX hosts, or a static route's host name */
	struct mx_plan plan;
	unsigned port;               /* of the resolved addresses: queue.mx_port or the route's */
	struct addr_query queries[2 * MX_HOSTS_MAX];
	struct sockaddr_storage addrs[MX_HOSTS_MAX][2][ADDRS_PER_HOST];
	size_t n_addrs[MX_HOSTS_MAX][2];
	unsigned pending;
	bool tempfail;
	/* TLS-8: the MTA-STS policy of an MX job's domain (sts.found: one
	 * applies) and the policy that chose the TLS level, for the logs */
	struct mtasts_result sts;
	const char *tls_source;
	const char *addr_names[MX_HOSTS_MAX * 2 * ADDRS_PER_HOST];  /* each address's MX host */
	/* TLS-8, DANE (RFC 7672): the lookup's result when DANE applies (it
	 * then wins over MTA-STS), else NULL; each address's TLSA records */
	struct dane_result *dane;
	const struct tlsa_set *addr_dane[MX_HOSTS_MAX * 2 * ADDRS_PER_HOST];
	/* RFC 8689 (queue/requiretls.h): the message asked for REQUIRETLS;
	 * or, without it, its "TLS-Required: No" asks that MTA-STS and DANE
	 * be ignored (the tls_policy still applies: the administrator's) */
	bool requiretls, tls_optional;
	bool mx_dnssec;              /* the DANE lookup found the MX records DNSSEC-validated */
	struct delivery_times times; /* for the delay figures of the attempt's log lines */
};

static void job_free(struct job *j)
{
	msgview_close(&j->view);
	free(j->rcpts);
	free(j->index);
	free(j->notify);
	free(j->orcpt);
	free(j->sender);
	free(j->dane);
	config_unref(j->c);
	free(j);
}

static bool sts_applies(const struct job *j, enum mtasts_mode mode)
{
	return j->sts.found && j->sts.policy.mode == mode;
}

/* Every recipient of the job gets the same outcome; the job ends. */
static void job_fail(struct job *j, int code, const char *reply)
{
	const struct deliver_tls note = { j->tls_source, NULL, false };
	char final[700];
	if (j->requiretls)
		reply = requiretls_final_reply(&code, reply, final, sizeof(final));
	for (size_t i = 0; i < j->n; i++)
		scheduler_rcpt_result(j->sch, j->q, j->index[i], code, reply, j->nexthop, NULL, DELIVER_FINAL,
				      j->tls_source ? &note : NULL, &j->times);
	scheduler_job_done(j->sch, j->q);
	job_free(j);
}

/* RFC 8461 5.2 under testing: the delivery goes on; what enforce would
 * have refused is reported. */
static void sts_report_testing(const struct job *j, const struct smtp_client_reply *r)
{
	if (!sts_applies(j, MTASTS_TESTING) || r->tls_verified || !r->mta[0])
		return;
	log_event(LOG_WARNING, "mta_sts_testing_failure", "queue_id", j->q->env.id, "domain", j->domain, "mta",
		  r->mta, "why", strcmp(r->tls, "none") == 0 ? "no TLS" : "certificate not valid for the MX host",
		  "tls", r->tls, NULL);
}

/* Under enforce, a TLS failure (4.7.5) names the policy, so that the
 * bounce at the end says why the mail was not sent in clear. */
static const char *sts_reason(const struct job *j, const struct smtp_client_reply *r, char *buf, size_t size)
{
	if (r->code / 100 != 4 || !strstr(r->text, "4.7.5"))
		return r->text;
	if (j->dane) {
		snprintf(buf, size, "451 4.7.5 DANE TLSA records of the MX hosts of %s require TLS with a certificate "
			 "they match: %s", j->domain, r->text);
		return buf;
	}
	if (!sts_applies(j, MTASTS_ENFORCE))
		return r->text;
	snprintf(buf, size, "451 4.7.5 MTA-STS policy of %s (enforce) requires TLS with a certificate valid for "
		 "the MX host: %s", j->domain, r->text);
	return buf;
}

/* TLS-RPT: the job as queue/tlsrpt_note.h sees it. */
static struct tlsrpt_job tlsrpt_job_of(const struct job *j)
{
	return (struct tlsrpt_job){ scheduler_tlsrpt(j->sch), j->c, j->domain, &j->sts, j->dane, &j->plan };
}

static void on_tls_attempt(void *arg, const struct smtp_tls_attempt *a)
{
	tlsrpt_note_session(tlsrpt_job_of(arg), a);
}

static void smtp_job_done(void *arg, const struct smtp_client_reply *replies, size_t n)
{
	struct job *j = arg;
	char reason[700], final[800];
	if (n > 0)
		j->times.ready_mono_ms = replies[0].ready_ms;
	for (size_t i = 0; i < n; i++) {
		const struct deliver_tls note = { j->tls_source, replies[i].tls, replies[i].tls_verified };
		sts_report_testing(j, &replies[i]);
		int code = replies[i].code;
		const char *text = sts_reason(j, &replies[i], reason, sizeof(reason));
		if (j->requiretls)
			text = requiretls_final_reply(&code, text, final, sizeof(final));
		scheduler_rcpt_result(j->sch, j->q, j->index[i], code, text, j->nexthop,
				      replies[i].mta[0] ? replies[i].mta : NULL,
				      replies[i].dsn_passed ? DELIVER_DSN_PASSED
				      : j->route && j->route->kind == ROUTE_LMTP ? DELIVER_FINAL : DELIVER_RELAYED,
				      &note, &j->times);
	}
	scheduler_job_done(j->sch, j->q);
	job_free(j);
}

/* The view of the message this job sends; false (job failed with a
 * temporary error) if the spool file cannot be read. */
static bool job_view(struct job *j)
{
	if (msgview_open(&j->view, j->q->fd, &j->q->env))
		return true;
	job_fail(j, 451, "451 4.3.0 spool read error");
	return false;
}

static void run_maildir(struct job *j)
{
	char why[512];
	if (!job_view(j))
		return;
	j->times.ready_mono_ms = monotime_ms();  /* no connection: the writing is the transmission */
	int rc = maildir_deliver(j->route->path, j->q->env.id, j->sender ? j->sender : j->q->env.sender,
				 j->rcpts, j->n, j->q->fd, &j->view, why, sizeof(why));
	char reply[600];
	snprintf(reply, sizeof(reply), "451 4.3.0 %s", why);
	for (size_t i = 0; i < j->n; i++)
		scheduler_rcpt_result(j->sch, j->q, j->index[i], rc == 0 ? 250 : 451,
				      rc == 0 ? "250 2.0.0 delivered to maildir" : reply, j->nexthop, NULL, DELIVER_FINAL,
				      NULL, &j->times);
	scheduler_job_done(j->sch, j->q);
	job_free(j);
}

/* TLS-5/TLS-7: the strictest policy of the recipients' domains; TLS-8:
 * an MTA-STS policy (only found for a domain without a tls_policy entry)
 * raises it: enforce to verify, testing to at least may. */
static struct tls_requirement job_tls_requirement(struct job *j)
{
	struct tls_requirement req = { TLS_LEVEL_NONE, 0, false };
	for (size_t i = 0; i < j->n; i++) {
		const char *dom = address_domain(j->rcpts[i]);
		req = tls_policy_stricter(req, tls_policy_lookup(j->c, dom, strlen(dom)));
	}
	int floor = sts_applies(j, MTASTS_ENFORCE) ? TLS_LEVEL_VERIFY
		    : sts_applies(j, MTASTS_TESTING) ? TLS_LEVEL_MAY : TLS_LEVEL_NONE;
	if (req.level < floor)
		req.level = floor;
	return req;
}

/* RFC 8689: may this SMTP hop carry the job's REQUIRETLS message
 * (queue/requiretls.h)? If so *req is raised to verify; if not the job
 * fails with 5.7.30 (false) before any connection is made. */
static bool requiretls_hop_allowed(struct job *j, struct tls_requirement *req)
{
	if (!j->requiretls)
		return true;
	struct requiretls_hop hop = { .kind = j->route ? REQUIRETLS_HOP_ROUTE : REQUIRETLS_HOP_MX,
				      .dane = j->dane != NULL, .mx_dnssec = j->mx_dnssec,
				      .sts_enforce = sts_applies(j, MTASTS_ENFORCE), .tls_level = req->level };
	const char *why = requiretls_hop_refusal(&hop);
	if (!why) {
		req->level = TLS_LEVEL_VERIFY;
		return true;
	}
	char reply[600];
	requiretls_refusal_reply(why, j->nexthop, reply, sizeof(reply));
	job_fail(j, 550, reply);
	return false;
}

/*
 * Issue 15: the smart host's credentials in *auth, or NULL when the hop
 * is not an authenticated smart host. A hop that logs in, or speaks
 * implicit TLS (an smtps:// route or smart host, RFC 8314), gets TLS with
 * a certificate valid for its name (verify): the password goes only to
 * the relay the administrator named, never in clear. false: the
 * credentials could not be read (logged at load); the job waits (451).
 */
static bool smart_host_hop(struct job *j, struct tls_requirement *req, const struct sasl_creds **auth)
{
	const struct smarthost_auth *a = scheduler_smarthost_auth(j->sch);
	bool smart = j->route && j->route == j->c->queue->smart_route && j->c->queue->smart_host_auth;
	*auth = smart ? smarthost_auth_get(a) : NULL;
	if (smart && !*auth) {
		job_fail(j, 451, "451 4.7.0 the smart host's credentials could not be read "
			 "(queue.smart_host_auth, see the log)");
		return false;
	}
	if ((*auth || (j->route && j->route->implicit_tls)) && req->level < TLS_LEVEL_VERIFY)
		req->level = TLS_LEVEL_VERIFY;
	return true;
}

static void run_smtp(struct job *j, const struct sockaddr_storage *addrs, size_t n_addrs, const char *host,
		     const char *port, bool lmtp)
{
	struct envelope *e = &j->q->env;
	struct tls_requirement req = job_tls_requirement(j);
	const struct sasl_creds *auth = NULL;
	if (!smart_host_hop(j, &req, &auth) || !requiretls_hop_allowed(j, &req) || !job_view(j))
		return;
	struct smtp_client_job cj = {
		.host = host, .port = port, .addrs = addrs, .n_addrs = n_addrs, .lmtp = lmtp,
		.helo_name = j->c->hostname, .sender = j->sender ? j->sender : e->sender,
		.rcpts = j->rcpts, .n_rcpts = j->n,
		.body_fd = j->q->fd, .body_offset = j->view.from, .body_end = j->view.end,
		.prefix = j->view.prefix, .prefix_len = j->view.prefix_len,
		.body_8bit = e->flags & ENVELOPE_F_8BITMIME, .smtputf8 = (e->flags & ENVELOPE_F_SMTPUTF8) != 0,
		.connect_timeout = j->c->queue->connect_timeout, .reply_timeout = j->c->queue->reply_timeout,
		.dsn_ret = e->dsn_ret, .dsn_envid = e->dsn_envid,
		.rcpt_notify = j->notify, .rcpt_orcpt = j->orcpt,
		.pool = scheduler_pool(j->sch), .pool_key = j->nexthop,
	};
	cj.requiretls = j->requiretls;
	cj.tls_level = req.level;
	cj.tls_min_version = req.min_version;
	cj.tls_ctx = req.level != TLS_LEVEL_NONE ? tls_client_ctx(j->c) : NULL;
	cj.tls_name = host;
	cj.tls_names = j->route ? NULL : j->addr_names;
	cj.tls_dane = j->dane ? j->addr_dane : NULL;
	cj.tls_attempt = on_tls_attempt;
	cj.implicit_tls = j->route && j->route->implicit_tls;
	cj.auth = auth;
	/* SEC-3: checked when the configuration was loaded. */
	if (j->c->queue->source_address &&
	    !srcaddr_parse(j->c->queue->source_address, strlen(j->c->queue->source_address), &j->source))
		cj.source = &j->source;
	/* A parked connection is reused only by a job with the same TLS
	 * requirement: a clear or unverified connection must never carry mail
	 * that demands encrypt or verify (TLS-7). */
	snprintf(j->pool_key, sizeof(j->pool_key), "%s|tls=%d/%d%s%s%s", j->nexthop, req.level, req.min_version,
		 j->dane ? "/dane" : "", cj.requiretls ? "/requiretls" : "", auth ? "/auth" : "");
	cj.pool_key = j->pool_key;
	smtp_client_start(j->base, &cj, smtp_job_done, j);
}

/* --- MX routing --------------------------------------------------------- */

/* The first address of MX host h that is ourselves (queue/mx_self.h),
 * or NULL; *why says how. */
static const struct sockaddr_storage *host_self_addr(const struct job *j, size_t h, enum mx_self *why)
{
	for (int f = 0; f < 2; f++)
		for (size_t k = 0; k < j->n_addrs[h][f]; k++)
			if ((*why = mx_self_addr(j->c, &j->addrs[h][f][k])) != MX_SELF_NO)
				return &j->addrs[h][f][k];
	return NULL;
}

/* RFC 5321 5.1: an MX host with an address of ours is dropped with every
 * host of its preference or a worse one, as mx_plan() does for our
 * hostname (the plan is sorted by preference). */
static void mx_drop_self(struct job *j)
{
	for (size_t h = 0; h < j->plan.n; h++) {
		enum mx_self why;
		const struct sockaddr_storage *ss = host_self_addr(j, h, &why);
		if (!ss)
			continue;
		char ip[INET6_ADDRSTRLEN] = "?";
		addr_text((const struct sockaddr *)ss, ip);
		log_event(LOG_WARNING, "mx_self_dropped", "queue_id", j->q->env.id, "domain", j->domain, "mx",
			  j->plan.hosts[h], "address", ip, "why", mx_self_name(why), NULL);
		while (h > 0 && j->plan.preference[h - 1] >= j->plan.preference[h])
			h--;
		j->plan.n = h;
		return;
	}
}

static void mx_addrs_done(struct job *j)
{
	if (!j->route)
		mx_drop_self(j);
	struct sockaddr_storage *all = xcalloc(MX_HOSTS_MAX * 2 * ADDRS_PER_HOST, sizeof(*all));
	size_t n = 0;
	/* In MX order; per host IPv4 first, then IPv6. */
	for (size_t h = 0; h < j->plan.n; h++)
		for (int f = 0; f < 2; f++)
			for (size_t k = 0; k < j->n_addrs[h][f]; k++) {
				j->addr_names[n] = j->plan.hosts[h];
				j->addr_dane[n] = j->dane && j->dane->host[h] == DANE_HOST_USABLE ? &j->dane->tlsa[h]
											: NULL;
				all[n++] = j->addrs[h][f][k];
			}
	if (n == 0) {
		char reply[400];
		if (!j->route && j->plan.n == 0) {
			free(all);
			snprintf(reply, sizeof(reply), "554 5.4.6 mail for %s loops back to myself (an MX host "
				 "resolves to an address of this gateway or to loopback)", j->domain);
			job_fail(j, 554, reply);
			return;
		}
		/* A static route's host that does not resolve is a local problem
		 * (the administrator's table), never a bounce. */
		if (j->tempfail || j->route)
			snprintf(reply, sizeof(reply), "451 4.4.3 address lookup of %s%s failed",
				 j->route ? "" : "the MX hosts of ", j->route ? j->route->host : j->domain);
		else
			snprintf(reply, sizeof(reply), "550 5.4.4 no address for the MX hosts of %s", j->domain);
		free(all);
		job_fail(j, j->tempfail || j->route ? 451 : 550, reply);
		return;
	}
	char port[8];
	snprintf(port, sizeof(port), "%u", j->port);
	run_smtp(j, all, n, j->plan.hosts[0], port, j->route && j->route->kind == ROUTE_LMTP);
	free(all);
}

static void on_addr(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	struct addr_query *aq = arg;
	struct job *j = aq->j;
	int f = aq->family == AF_INET ? 0 : 1;
	if (st == DNS_OK) {
		for (size_t k = 0; k < n && j->n_addrs[aq->host][f] < ADDRS_PER_HOST; k++) {
			struct sockaddr_storage ss = addrs[k];
			in_port_t port = htons((in_port_t)j->port);
			if (ss.ss_family == AF_INET)
				((struct sockaddr_in *)&ss)->sin_port = port;
			else if (ss.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&ss)->sin6_port = port;
			else
				continue;
			j->addrs[aq->host][f][j->n_addrs[aq->host][f]++] = ss;
		}
	} else if (st == DNS_TEMPFAIL) {
		j->tempfail = true;
	}
	if (--j->pending == 0)
		mx_addrs_done(j);
}

static unsigned random_u32(void)
{
	unsigned v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (unsigned)rand();
	return v;
}

static void resolve_hosts(struct job *j);

/* RFC 8461 4.1: under enforce only the MX hosts that match the policy's
 * mx patterns are tried; none left defers (the policy may change or the
 * MX records be fixed) and, at the end, bounces with this reason. Under
 * testing every host is tried and a mismatch reported. False: the job
 * ended. */
static bool sts_filter_mx(struct job *j)
{
	if (!j->sts.found)
		return true;
	size_t kept = 0;
	for (size_t h = 0; h < j->plan.n; h++) {
		bool match = mtasts_mx_match(&j->sts.policy, j->plan.hosts[h]);
		if (!match)
			log_event(LOG_WARNING, sts_applies(j, MTASTS_ENFORCE) ? "mta_sts_mx_skipped"
					       : "mta_sts_testing_failure", "queue_id", j->q->env.id, "domain",
				  j->domain, "mx", j->plan.hosts[h], "why", "MX host not in the policy's mx list", NULL);
		if (!match && sts_applies(j, MTASTS_ENFORCE))
			tlsrpt_note_failure(tlsrpt_job_of(j), "validation-failure",
					    j->plan.hosts[h], "MX host not in the policy's mx list");
		if (match || !sts_applies(j, MTASTS_ENFORCE)) {
			memmove(j->plan.hosts[kept], j->plan.hosts[h], sizeof(j->plan.hosts[0]));
			j->plan.preference[kept++] = j->plan.preference[h];
		}
	}
	j->plan.n = kept;
	if (kept > 0)
		return true;
	char reply[500];
	snprintf(reply, sizeof(reply), "451 4.7.5 MTA-STS policy of %s (enforce): none of its MX hosts matches "
		 "the policy's mx list", j->domain);
	job_fail(j, 451, reply);
	return false;
}

/* After the MX hosts are known and any DANE lookup is in. */
static void mx_continue(struct job *j)
{
	if (!j->dane && !sts_filter_mx(j))
		return;
	j->port = j->c->queue->mx_port;
	resolve_hosts(j);
}

/* TLS-8: DANE is looked up for MX destinations without a tls_policy
 * entry (the administrator's word wins, as over MTA-STS). */
static bool dane_wanted(const struct job *j)
{
	return j->c->outbound_tls.dane.enabled && !j->tls_optional &&
	       !tls_policy_lookup(j->c, j->domain, strlen(j->domain)).configured;
}

/* RFC 7672 2.2: hosts whose TLSA lookup failed are skipped (2.1.1: their
 * records cannot be known); none left defers. False: the job ended. */
static bool dane_filter_mx(struct job *j)
{
	size_t kept = 0;
	for (size_t h = 0; h < j->plan.n; h++) {
		if (j->dane->host[h] == DANE_HOST_FAILED) {
			log_event(LOG_WARNING, "dane_mx_skipped", "queue_id", j->q->env.id, "domain", j->domain, "mx",
				  j->plan.hosts[h], "why", "TLSA lookup failed or bogus", NULL);
			tlsrpt_note_failure(tlsrpt_job_of(j), "dnssec-invalid",
					    j->plan.hosts[h], "TLSA lookup failed or bogus");
			continue;
		}
		memmove(j->plan.hosts[kept], j->plan.hosts[h], sizeof(j->plan.hosts[0]));
		j->plan.preference[kept] = j->plan.preference[h];
		j->dane->host[kept] = j->dane->host[h];
		j->dane->tlsa[kept++] = j->dane->tlsa[h];
	}
	j->plan.n = kept;
	if (kept > 0)
		return true;
	char reply[400];
	snprintf(reply, sizeof(reply), "451 4.7.5 DANE: the TLSA records of no MX host of %s could be validated",
		 j->domain);
	job_fail(j, 451, reply);
	return false;
}

static void on_dane(void *arg, struct dane_result *r)
{
	struct job *j = arg;
	if (r->mx_failed && !r->stopped)
		tlsrpt_note_failure(tlsrpt_job_of(j), "dnssec-invalid", NULL, r->why);
	j->mx_dnssec = r->mx_secure && !r->mx_failed;
	if (r->stopped || r->mx_failed) {
		char reply[400];
		snprintf(reply, sizeof(reply), "451 4.7.5 DANE: %s", r->stopped ? "the queue is stopping" : r->why);
		free(r);
		job_fail(j, 451, reply);
		return;
	}
	if (!r->applies) {
		free(r);
		mx_continue(j);
		return;
	}
	/* DANE wins over MTA-STS (RFC 8461 2). */
	j->dane = r;
	j->sts.found = false;
	j->tls_source = "dane";
	if (dane_filter_mx(j))
		mx_continue(j);
}

static void on_mx(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n)
{
	struct job *j = arg;
	char reply[400];
	if (st == DNS_TEMPFAIL) {
		snprintf(reply, sizeof(reply), "451 4.4.3 MX lookup for %s failed (DNS unreachable or failing)", j->domain);
		job_fail(j, 451, reply);
		return;
	}
	if (st == DNS_NXDOMAIN || st == DNS_BADNAME) {
		snprintf(reply, sizeof(reply), "550 5.1.2 domain %s does not exist", j->domain);
		job_fail(j, 550, reply);
		return;
	}
	/* DNS_NODATA: no MX, the domain itself is the host (RFC 5321 5.1). */
	enum mx_result plan = mx_plan(st == DNS_OK ? mx : NULL, st == DNS_OK ? n : 0, j->domain, j->c->hostname,
				      random_u32, &j->plan);
	if (j->plan.ip_literals)
		log_event(LOG_WARNING, "mx_ip_literal_skipped", "queue_id", j->q->env.id, "domain", j->domain,
			  "why", "an MX record names an IP address, not a host (RFC 1035 3.3.9)", NULL);
	switch (plan) {
	case MX_NULL:
		snprintf(reply, sizeof(reply), "556 5.1.10 domain %s accepts no mail (null MX, RFC 7505)", j->domain);
		job_fail(j, 556, reply);
		return;
	case MX_LOOP:
		snprintf(reply, sizeof(reply), "554 5.4.6 mail for %s loops back to myself", j->domain);
		job_fail(j, 554, reply);
		return;
	case MX_IP_LITERAL:
		snprintf(reply, sizeof(reply), "550 5.4.4 the MX records of %s name IP addresses, not hosts", j->domain);
		job_fail(j, 550, reply);
		return;
	case MX_OK:
		break;
	}
	if (dane_wanted(j)) {
		struct dnssec *v = scheduler_dnssec(j->sch, j->c);
		if (!v) {
			job_fail(j, 451, "451 4.7.5 DANE is enabled but the DNSSEC validator did not start");
			return;
		}
		dane_lookup_start(v, j->domain, &j->plan, on_dane, j);
		return;
	}
	mx_continue(j);
}

/* A and AAAA of every host in j->plan, all at once on c-ares (never a
 * blocking resolver on the queue's loop); mx_addrs_done() when all are in. */
static void resolve_hosts(struct job *j)
{
	struct dns *d = scheduler_dns(j->sch);
	if (!d) {
		j->tempfail = true;
		mx_addrs_done(j);
		return;
	}
	j->pending = (unsigned)(2 * j->plan.n);
	for (size_t h = 0; h < j->plan.n; h++) {
		j->queries[2 * h] = (struct addr_query){ j, h, AF_INET };
		j->queries[2 * h + 1] = (struct addr_query){ j, h, AF_INET6 };
		dns_query_addr(d, j->plan.hosts[h], AF_INET, on_addr, &j->queries[2 * h]);
		dns_query_addr(d, j->plan.hosts[h], AF_INET6, on_addr, &j->queries[2 * h + 1]);
	}
}

/* A static SMTP/LMTP route: an address literal needs no DNS at all
 * (TOP-4: internal mail flows with the internet link down); a host name is
 * resolved with c-ares, as MX hosts are (issue 16 item 8). */
static void run_route_host(struct job *j)
{
	const struct route *r = j->route;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned port = (unsigned)strtoul(r->port, NULL, 10);
	if (inet_pton(AF_INET, r->host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((in_port_t)port);
	} else if (inet_pton(AF_INET6, r->host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((in_port_t)port);
	}
	if (ss.ss_family != 0) {
		run_smtp(j, &ss, 1, r->host, r->port, r->kind == ROUTE_LMTP);
		return;
	}
	j->plan.n = 1;
	snprintf(j->plan.hosts[0], sizeof(j->plan.hosts[0]), "%s", r->host);
	j->port = port;
	resolve_hosts(j);
}

static void on_sts(void *arg, const struct mtasts_result *r)
{
	struct job *j = arg;
	if (r->stopped) {
		job_fail(j, 451, "451 4.3.2 the queue is stopping");
		return;
	}
	j->sts = *r;
	if (r->found)
		j->tls_source = "mta-sts";
	else if (r->failure)
		tlsrpt_note_failure(tlsrpt_job_of(j), r->failure, NULL, r->why);
	dns_query_mx(scheduler_dns(j->sch), j->domain, on_mx, j);
}

static void run_mx(struct job *j)
{
	struct dns *d = scheduler_dns(j->sch);
	if (!d) {
		job_fail(j, 451, "451 4.4.3 no DNS resolver available");
		return;
	}
	/* TLS-8: an explicit tls_policy entry wins over MTA-STS. */
	struct mtasts_lookup *m = scheduler_mtasts(j->sch);
	if (j->c->outbound_tls.mta_sts.enabled && m && !j->tls_optional &&
	    !tls_policy_lookup(j->c, j->domain, strlen(j->domain)).configured) {
		mtasts_lookup_start(m, d, j->c, j->domain, on_sts, j);
		return;
	}
	dns_query_mx(d, j->domain, on_mx, j);
}

/* The log name of the policy that sets a job's TLS level before any
 * MTA-STS lookup: a tls_policy entry, else outbound_tls.level. */
static const char *tls_source_name(const struct config *c, const char *domain)
{
	struct tls_requirement r = tls_policy_lookup(c, domain, strlen(domain));
	if (r.configured || r.level >= TLS_LEVEL_ENCRYPT)
		return "config";
	return r.level == TLS_LEVEL_MAY ? "may" : "none";
}

/* Recipients without a route in a local domain (the configuration changed
 * since they were accepted) wait: a route may come back with the next reload. */
static void no_route(struct scheduler *sch, struct qentry *q, size_t i)
{
	char reply[300];
	snprintf(reply, sizeof(reply), "451 4.4.4 no route for domain %s", address_domain(q->env.rcpts[i].addr));
	struct delivery_times now = delivery_times_start();  /* no attempt: only the time in the queue */
	scheduler_rcpt_result(sch, q, i, 451, reply, "none", NULL, DELIVER_FINAL, NULL, &now);
}

void deliver_nexthop(const struct config *c, const char *domain, char *buf, size_t size)
{
	const struct route *r = route_lookup(c->routes, c->n_routes, domain, strlen(domain));
	if (!r && config_is_local_domain(c, domain, strlen(domain)))
		snprintf(buf, size, "none:%s", domain);
	else if (r || (r = c->queue->smart_route) != NULL)
		snprintf(buf, size, "%s", r->spec);
	else
		snprintf(buf, size, "mx:%s", domain);
}

enum metric_hop deliver_hop_class(const struct config *c, const char *nexthop)
{
	if (strncmp(nexthop, "lmtp:", 5) == 0)
		return HOP_LMTP;
	if (strncmp(nexthop, "maildir:", 8) == 0)
		return HOP_MAILDIR;
	if (strncmp(nexthop, "mx:", 3) == 0 || strncmp(nexthop, "none:", 5) == 0)
		return HOP_MX;
	const struct route *smart = c->queue->smart_route;
	return smart && strcmp(nexthop, smart->spec) == 0 ? HOP_SMART_HOST : HOP_ROUTE_SMTP;
}

void deliver_start(struct event_base *base, const struct config *c, struct dns *dns, struct scheduler *sch,
		   struct qentry *q)
{
	struct envelope *e = &q->env;
	size_t n = e->n_rcpts;
	struct job **jobs = xcalloc(n, sizeof(*jobs));
	size_t n_jobs = 0;
	/* RFC 8689 4.1: TLS-Required is ignored when REQUIRETLS was given. */
	bool requiretls = (e->flags & ENVELOPE_F_REQUIRETLS) != 0;
	/* The header is read only where it could change something: a read of
	 * the message on the queue's loop for every delivery costs the
	 * default configuration (neither MTA-STS nor DANE) for nothing. */
	bool policies = c->outbound_tls.mta_sts.enabled || c->outbound_tls.dane.enabled;
	bool tls_optional = !requiretls && policies && requiretls_tls_optional(q->fd, e);
	if (tls_optional)
		log_event(LOG_INFO, "tls_required_no", "queue_id", e->id, "why",
			  "TLS-Required: No: MTA-STS and DANE are not applied (RFC 8689 5)", NULL);
	for (size_t i = 0; i < n; i++) {
		if (e->rcpts[i].status != RCPT_PENDING || scheduler_rcpt_settled(q, i))
			continue;
		const char *dom = address_domain(e->rcpts[i].addr);
		const struct route *r = route_lookup(c->routes, c->n_routes, dom, strlen(dom));
		if (!r && config_is_local_domain(c, dom, strlen(dom))) {
			no_route(sch, q, i);
			continue;
		}
		if (!r)
			r = c->queue->smart_route;  /* NULL: MX */
		struct job *j = NULL;
		for (size_t k = 0; k < n_jobs && !j; k++)
			if (jobs[k]->route == r && (r || strcasecmp(jobs[k]->domain, dom) == 0))
				j = jobs[k];
		if (!j) {
			j = jobs[n_jobs++] = xcalloc(1, sizeof(*j));
			/* The job holds the snapshot: a reload may swap the queue's. */
			*j = (struct job){ .sch = sch, .q = q, .base = base, .c = config_ref(c), .route = r,
					   .times = delivery_times_start(),
					   .rcpts = xcalloc(n, sizeof(char *)), .index = xcalloc(n, sizeof(size_t)),
					   .notify = xcalloc(n, sizeof(char *)), .orcpt = xcalloc(n, sizeof(char *)) };
			snprintf(j->domain, sizeof(j->domain), "%s", dom);
			/* maildir and LMTP are final delivery: no REQUIRETLS rule */
			j->requiretls = requiretls && !(r && (r->kind == ROUTE_MAILDIR || r->kind == ROUTE_LMTP));
			j->tls_optional = tls_optional;
			j->tls_source = r && r->kind == ROUTE_MAILDIR ? NULL : tls_source_name(c, dom);
			if (r)
				snprintf(j->nexthop, sizeof(j->nexthop), "%s", r->spec);
			else
				snprintf(j->nexthop, sizeof(j->nexthop), "mx:%s", dom);
			/* TOP-5: senders are rewritten on the way out. */
			j->sender = rewrite_apply(c->rewrite, e->sender);
		}
		j->rcpts[j->n] = e->rcpts[i].addr;
		j->notify[j->n] = e->rcpts[i].dsn_notify;
		j->orcpt[j->n] = e->rcpts[i].dsn_orcpt;
		j->index[j->n++] = i;
	}
	/* +1 holds the round open until every job has started, so a job that
	 * finishes at once cannot end the round early. */
	q->jobs_left = (unsigned)n_jobs + 1;
	for (size_t k = 0; k < n_jobs; k++) {
		struct job *j = jobs[k];
		if (!j->route)
			run_mx(j);
		else if (j->route->kind == ROUTE_MAILDIR)
			run_maildir(j);
		else if (j->route->kind == ROUTE_LMTP && j->route->path) {
			struct sockaddr_storage ss = { 0 };
			struct sockaddr_un *su = (struct sockaddr_un *)&ss;
			su->sun_family = AF_UNIX;
			snprintf(su->sun_path, sizeof(su->sun_path), "%s", j->route->path);
			run_smtp(j, &ss, 1, j->route->path, "", true);
		} else
			run_route_host(j);
	}
	free(jobs);
	(void)dns;
	scheduler_job_done(sch, q);
}
