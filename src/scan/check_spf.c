/*
 * SPF (RFC 7208) of the MAIL FROM identity with libspf2 (SCAN-4), without
 * ever blocking the event loop: libspf2 resolves synchronously, so it gets
 * a DNS layer of ours that answers only from a per-check cache and notes
 * every name it was asked for and did not have. After an evaluation that
 * needed names we lack, we fetch them all in parallel with the process's
 * asynchronous resolver (c-ares), add them to the cache and evaluate
 * again. An SPF record needs at most 10 DNS-querying terms (RFC 7208
 * 4.6.4), so a few rounds settle it; past SPF_ROUNDS the answer is
 * temperror. The result goes into Authentication-Results; "fail" is the
 * hit (refused or scored by policy). The null sender is checked with
 * postmaster@HELO (RFC 7208 2.4).
 *
 * The "ptr" mechanism (deprecated by RFC 7208 5.5) gets no data here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>

#include "dns/dns.h"
#include "scan/scan.h"
#include "util/alloc.h"

#define SPF_ROUNDS 12
#define SPF_CACHE_MAX 64

struct spf_entry {
	char name[256];
	ns_type type;
	SPF_dns_rr_t *rr;        /* NULL: asked for, not yet fetched */
};

struct spf_run {
	struct scan_job *job;
	SPF_dns_server_t layer;
	SPF_server_t *server;
	struct spf_entry cache[SPF_CACHE_MAX];
	size_t n;
	unsigned rounds, pending;
};

struct spf_fetch {
	struct spf_run *run;
	size_t entry;
};

static SPF_dns_rr_t *cached_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
	struct spf_run *run = layer->hook;
	for (size_t i = 0; i < run->n; i++)
		if (run->cache[i].type == type && strcasecmp(run->cache[i].name, domain) == 0) {
			if (run->cache[i].rr) {
				SPF_dns_rr_t *out = NULL;
				if (SPF_dns_rr_dup(&out, run->cache[i].rr) == SPF_E_SUCCESS)
					return out;
			}
			return SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
		}
	bool supported = type == ns_t_txt || type == ns_t_a || type == ns_t_aaaa || type == ns_t_mx;
	if (!supported)
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	if (run->n < SPF_CACHE_MAX && strlen(domain) < sizeof(run->cache[0].name)) {
		struct spf_entry *e = &run->cache[run->n++];
		snprintf(e->name, sizeof(e->name), "%s", domain);
		e->type = type;
		e->rr = NULL;
	}
	return SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
}

static SPF_dns_stat_t herrno_of(enum dns_status st)
{
	switch (st) {
	case DNS_OK: return NETDB_SUCCESS;
	case DNS_NXDOMAIN: case DNS_BADNAME: return HOST_NOT_FOUND;
	case DNS_NODATA: return NO_DATA;
	case DNS_TEMPFAIL: return TRY_AGAIN;
	}
	return TRY_AGAIN;
}

static void evaluate(struct spf_run *run);

static void fetched(struct spf_fetch *f)
{
	struct spf_run *run = f->run;
	free(f);
	if (--run->pending == 0)
		evaluate(run);
}

static SPF_dns_rr_t *new_rr(struct spf_run *run, struct spf_entry *e, enum dns_status st)
{
	return SPF_dns_rr_new_init(&run->layer, e->name, e->type, 300, st == DNS_OK ? NETDB_SUCCESS : herrno_of(st));
}

static void add_data(SPF_dns_rr_t *rr, const void *p, size_t len)
{
	if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len) != SPF_E_SUCCESS)
		return;
	memcpy(rr->rr[rr->num_rr], p, len);
	rr->num_rr++;
}

static void on_text(void *arg, enum dns_status st, char *const *texts, size_t n)
{
	struct spf_fetch *f = arg;
	struct spf_entry *e = &f->run->cache[f->entry];
	e->rr = new_rr(f->run, e, st);
	for (size_t i = 0; e->rr && st == DNS_OK && i < n; i++)
		add_data(e->rr, texts[i], strlen(texts[i]) + 1);
	fetched(f);
}

static void on_addr(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	struct spf_fetch *f = arg;
	struct spf_entry *e = &f->run->cache[f->entry];
	e->rr = new_rr(f->run, e, st);
	for (size_t i = 0; e->rr && st == DNS_OK && i < n; i++) {
		if (addrs[i].ss_family == AF_INET)
			add_data(e->rr, &((const struct sockaddr_in *)(const void *)&addrs[i])->sin_addr,
				 sizeof(struct in_addr));
		else
			add_data(e->rr, &((const struct sockaddr_in6 *)(const void *)&addrs[i])->sin6_addr,
				 sizeof(struct in6_addr));
	}
	fetched(f);
}

static void on_mx(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n)
{
	struct spf_fetch *f = arg;
	struct spf_entry *e = &f->run->cache[f->entry];
	e->rr = new_rr(f->run, e, st);
	for (size_t i = 0; e->rr && st == DNS_OK && i < n; i++)
		if (mx[i].host[0])
			add_data(e->rr, mx[i].host, strlen(mx[i].host) + 1);
	fetched(f);
}

static void run_free(struct spf_run *run)
{
	for (size_t i = 0; i < run->n; i++)
		if (run->cache[i].rr)
			SPF_dns_rr_free(run->cache[i].rr);
	if (run->server)
		SPF_server_free(run->server);
	free(run);
}

static void finish(struct spf_run *run, SPF_result_t result)
{
	struct scan_job *job = run->job;
	if (scan_job_alive(job)) {
		struct scan_facts *f = scan_job_facts(job);
		switch (result) {
		case SPF_RESULT_PASS: f->spf = "pass"; break;
		case SPF_RESULT_FAIL: f->spf = "fail"; break;
		case SPF_RESULT_SOFTFAIL: f->spf = "softfail"; break;
		case SPF_RESULT_NEUTRAL: f->spf = "neutral"; break;
		case SPF_RESULT_NONE: f->spf = "none"; break;
		case SPF_RESULT_TEMPERROR: f->spf = "temperror"; break;
		default: f->spf = "permerror"; break;
		}
		if (result == SPF_RESULT_FAIL) {
			char detail[700];
			snprintf(detail, sizeof(detail), "<%s>: SPF fail for client [%s]",
				 f->sender[0] ? f->sender : f->helo, f->client_ip);
			scan_hit(job, "SPF_FAIL", -1, detail);
		}
	}
	run_free(run);
	scan_job_done(job);
}

/* One evaluation from the cache; then fetch what was missing, or finish. */
static void evaluate(struct spf_run *run)
{
	struct scan_job *job = run->job;
	if (!scan_job_alive(job)) {
		run_free(run);
		scan_job_done(job);
		return;
	}
	struct scan_facts *f = scan_job_facts(job);
	SPF_request_t *req = SPF_request_new(run->server);
	SPF_response_t *resp = NULL;
	const struct sockaddr_storage *ss = &f->client;
	if (ss->ss_family == AF_INET)
		SPF_request_set_ipv4(req, ((const struct sockaddr_in *)(const void *)ss)->sin_addr);
	else
		SPF_request_set_ipv6(req, ((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
	SPF_request_set_helo_dom(req, f->helo[0] ? f->helo : "unknown");
	char from[700];
	snprintf(from, sizeof(from), "%s%s", f->sender[0] ? "" : "postmaster@",
		 f->sender[0] ? f->sender : f->helo);
	SPF_request_set_env_from(req, from);
	size_t known = 0;
	for (size_t i = 0; i < run->n; i++)
		known += run->cache[i].rr != NULL;
	SPF_request_query_mailfrom(req, &resp);
	SPF_result_t result = resp ? SPF_response_result(resp) : SPF_RESULT_TEMPERROR;
	if (resp)
		SPF_response_free(resp);
	SPF_request_free(req);
	size_t missing = run->n - known;
	struct dns *dns = scan_job_dns(job);
	if (missing == 0 || ++run->rounds > SPF_ROUNDS || !dns) {
		finish(run, missing == 0 ? result : SPF_RESULT_TEMPERROR);
		return;
	}
	run->pending = 1;
	for (size_t i = 0; i < run->n; i++) {
		struct spf_entry *e = &run->cache[i];
		if (e->rr)
			continue;
		struct spf_fetch *fx = xcalloc(1, sizeof(*fx));
		fx->run = run;
		fx->entry = i;
		run->pending++;
		if (e->type == ns_t_txt)
			dns_query_txt(dns, e->name, on_text, fx);
		else if (e->type == ns_t_mx)
			dns_query_mx(dns, e->name, on_mx, fx);
		else
			dns_query_addr(dns, e->name, e->type == ns_t_a ? AF_INET : AF_INET6, on_addr, fx);
	}
	/* The answers come from the loop, never from inside the calls above. */
	run->pending--;
}

static void quiet(const char *file, int line, const char *msg)
{
}

static void spf_mail(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	if (!f->sender[0] && !f->helo[0]) {
		scan_job_done(job);
		return;
	}
	SPF_warning_handler = quiet;
	SPF_info_handler = quiet;
	SPF_debug_handler = quiet;
	struct spf_run *run = xcalloc(1, sizeof(*run));
	run->job = job;
	run->layer.lookup = cached_lookup;
	run->layer.name = "mailwarden";
	run->layer.hook = run;
	run->server = SPF_server_new_dns(&run->layer, 0);
	if (!run->server) {
		run_free(run);
		scan_job_facts(job)->spf = "temperror";
		scan_job_done(job);
		return;
	}
	evaluate(run);
}

const struct scan_check scan_check_spf = {
	.name = "spf",
	.default_reply = "550 5.7.23 SPF validation failed",
	.stage = { [SCAN_STAGE_MAIL] = spf_mail },
};
