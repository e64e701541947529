/*
 * See mtasts_lookup.h. Runs in the queue process: the DNS steps and the
 * callbacks on its event loop, decide() in a worker thread.
 */
#include "queue/mtasts_lookup.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "config/config.h"
#include "dns/dns.h"
#include "net/https_get.h"
#include "state/mtasts_cache.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/offload.h"

#define WORKERS 2
#define ADDRS_MAX 8
#define POLICY_PATH "/.well-known/mta-sts.txt"

struct request;

struct mtasts_lookup {
	struct offload *workers;
	/* Requests at a worker, one per domain and record: another lookup
	 * of the same waits for its answer instead of fetching too (a queue
	 * full of mail for one domain makes one fetch, not hundreds). */
	TAILQ_HEAD(, request) leaders;
	char *db_path;
	struct mtasts_cache *cache;   /* opened by the first worker that needs it */
	atomic_bool cache_tried;
	atomic_bool stopping;         /* read by fetches in flight */
	bool stopped;
	pthread_mutex_t open_lock;
};

/* One lookup: filled on the loop, then read and completed by a worker. */
struct request {
	struct mtasts_lookup *m;
	struct dns *dns;
	char domain[256];
	char host[300];               /* mta-sts.<domain> */
	char *ca_file;                /* copied: the config is not thread-safe to share */
	unsigned timeout_ms, port;
	bool have_txt;
	char txt_id[MTASTS_ID_MAX + 1];
	struct sockaddr_storage addrs[ADDRS_MAX];
	size_t n_addrs;
	unsigned pending;             /* address queries in flight */
	bool refresh_due;             /* the cached policy is past half its max_age */
	TAILQ_ENTRY(request) link;    /* in leaders, or in a leader's followers */
	TAILQ_HEAD(, request) followers;
	struct mtasts_result r;
	mtasts_lookup_cb cb;
	void *arg;
};

struct mtasts_lookup *mtasts_lookup_new(struct event_base *base, const char *db_path)
{
	if (!https_get_init())
		return NULL;
	struct mtasts_lookup *m = xcalloc(1, sizeof(*m));
	m->workers = offload_new(base, WORKERS);
	if (!m->workers) {
		https_get_cleanup();
		free(m);
		return NULL;
	}
	m->db_path = xstrdup(db_path);
	TAILQ_INIT(&m->leaders);
	pthread_mutex_init(&m->open_lock, NULL);
	return m;
}

void mtasts_lookup_stop(struct mtasts_lookup *m)
{
	if (!m || m->stopped)
		return;
	atomic_store(&m->stopping, true);
	m->stopped = true;
	offload_free(m->workers);   /* joins; the completions run here */
	m->workers = NULL;
}

void mtasts_lookup_free(struct mtasts_lookup *m)
{
	if (!m)
		return;
	mtasts_lookup_stop(m);
	mtasts_cache_close(m->cache);
	pthread_mutex_destroy(&m->open_lock);
	free(m->db_path);
	free(m);
	https_get_cleanup();   /* the workers are joined (stop) */
}

static void request_end(struct request *q)
{
	if (q->m->stopped)
		q->r.stopped = true;
	q->cb(q->arg, &q->r);
	free(q->ca_file);
	free(q);
}

/* --- in a worker thread ------------------------------------------------- */

static struct mtasts_cache *cache_of(struct mtasts_lookup *m)
{
	pthread_mutex_lock(&m->open_lock);
	if (!atomic_load(&m->cache_tried)) {
		m->cache = mtasts_cache_open(m->db_path);
		atomic_store(&m->cache_tried, true);
	}
	pthread_mutex_unlock(&m->open_lock);
	return m->cache;
}

/* A cached text parsed again; only a valid one that has not expired. */
static bool use_cached(struct request *q, const struct mtasts_cached *c, time_t now)
{
	char why[200];
	if (c->expires <= now || !mtasts_policy_parse(c->text, c->len, &q->r.policy, why, sizeof(why)))
		return false;
	snprintf(q->r.id, sizeof(q->r.id), "%s", c->id);
	q->r.origin = "cache";
	return true;
}

static bool fetch(struct request *q, struct mtasts_cache *cache, time_t now)
{
	struct https_get_req hr = { .host = q->host, .port = q->port, .path = POLICY_PATH, .addrs = q->addrs,
				    .n_addrs = q->n_addrs, .ca_file = q->ca_file, .timeout_ms = q->timeout_ms,
				    .max_size = MTASTS_POLICY_SIZE_MAX, .content_type = "text/plain",
				    .cancel = &q->m->stopping };
	char *body = NULL, why[200];
	size_t len = 0;
	if (!https_get(&hr, &body, &len, why, sizeof(why))) {
		snprintf(q->r.why, sizeof(q->r.why), "fetch of https://%.100s%s: %.120s", q->host, POLICY_PATH, why);
		/* curl names a certificate it refused so ("SSL certificate
		 * problem: ...", "SSL peer certificate ... was not OK") */
		q->r.failure = strstr(why, "certificate") ? "sts-webpki-invalid" : "sts-policy-fetch-error";
		return false;
	}
	bool ok = mtasts_policy_parse(body, len, &q->r.policy, why, sizeof(why));
	if (!ok) {
		snprintf(q->r.why, sizeof(q->r.why), "policy of %.100s is invalid: %.120s", q->domain, why);
		q->r.failure = "sts-policy-invalid";
	}
	else if (cache)
		mtasts_cache_put(cache, q->domain, q->txt_id, body, len, now, now + (time_t)q->r.policy.max_age);
	free(body);
	if (ok) {
		snprintf(q->r.id, sizeof(q->r.id), "%s", q->txt_id);
		q->r.origin = "fetched";
	}
	return ok;
}

/* RFC 8461 5.1: the cached policy while the record's id is unchanged and
 * it has not expired; else fetch; a failed fetch falls back to the cache. */
static void decide(void *arg)
{
	struct request *q = arg;
	struct mtasts_cache *cache = cache_of(q->m);
	struct mtasts_cached c = { 0 };
	time_t now = time(NULL);
	bool cached = cache && mtasts_cache_get(cache, q->domain, &c);
	bool done = false;
	if (cached && q->have_txt && strcmp(c.id, q->txt_id) == 0) {
		done = use_cached(q, &c, now);
		q->refresh_due = done && c.fetched + (time_t)q->r.policy.max_age / 2 <= now;
	}
	if (!done && q->have_txt)
		done = fetch(q, cache, now);
	else if (!done && !q->r.why[0])
		snprintf(q->r.why, sizeof(q->r.why), "no valid _mta-sts TXT record");
	if (!done && cached)
		done = use_cached(q, &c, now);
	free(c.text);
	q->r.found = done && q->r.policy.mode != MTASTS_NONE;
}

/* RFC 8461 5.1: a policy in use is fetched again before it expires, so
 * that it does not lapse while its host happens to be down; nobody waits
 * for this fetch. */
static void refresh(void *arg)
{
	struct request *q = arg;
	fetch(q, cache_of(q->m), time(NULL));
}

/* --- on the loop ---------------------------------------------------------- */

static void refreshed(void *arg)
{
	struct request *q = arg;
	log_event(q->r.origin ? LOG_INFO : LOG_WARNING, "mta_sts_refresh", "domain", q->domain, "id", q->txt_id,
		  "result", q->r.origin ? "fetched" : "failed", "why", q->r.why, NULL);
	free(q->ca_file);
	free(q);
}

static void start_refresh(const struct request *q)
{
	struct request *copy = xmalloc(sizeof(*copy));
	*copy = *q;
	copy->ca_file = q->ca_file ? xstrdup(q->ca_file) : NULL;
	copy->r = (struct mtasts_result){ 0 };
	TAILQ_INIT(&copy->followers);
	copy->cb = NULL;
	offload_run(q->m->workers, refresh, refreshed, copy);
}

/* The leader's answer is the followers' too. */
static void end_followers(struct request *q)
{
	struct request *f;
	while ((f = TAILQ_FIRST(&q->followers)) != NULL) {
		TAILQ_REMOVE(&q->followers, f, link);
		f->r = q->r;
		request_end(f);
	}
}

static void decided(void *arg)
{
	struct request *q = arg;
	TAILQ_REMOVE(&q->m->leaders, q, link);
	if (!q->r.found)
		q->r.origin = "none";
	/* A fetch (done or failed) is news; a policy from the cache is not. */
	bool news = strcmp(q->r.origin, "fetched") == 0 || (q->have_txt && q->r.why[0]);
	log_event(news ? LOG_INFO : LOG_DEBUG, "mta_sts_policy", "domain", q->domain, "origin", q->r.origin, "mode",
		  q->r.found ? mtasts_mode_name(q->r.policy.mode) : "none", "id", q->r.id, "why", q->r.why, NULL);
	if (q->refresh_due && !q->m->stopped)
		start_refresh(q);
	end_followers(q);
	request_end(q);
}

static struct request *leader_of(const struct request *q)
{
	struct request *l;
	TAILQ_FOREACH(l, &q->m->leaders, link)
		if (strcmp(l->domain, q->domain) == 0 && l->have_txt == q->have_txt && strcmp(l->txt_id, q->txt_id) == 0)
			return l;
	return NULL;
}

static void to_worker(struct request *q)
{
	if (q->m->stopped) {
		q->r.origin = "none";
		request_end(q);
		return;
	}
	struct request *l = leader_of(q);
	if (l) {
		TAILQ_INSERT_TAIL(&l->followers, q, link);
		return;
	}
	TAILQ_INIT(&q->followers);
	TAILQ_INSERT_TAIL(&q->m->leaders, q, link);
	offload_run(q->m->workers, decide, decided, q);
}

static void on_host_addr(void *arg, enum dns_status st, const struct sockaddr_storage *addrs, size_t n)
{
	struct request *q = arg;
	for (size_t i = 0; st == DNS_OK && i < n && q->n_addrs < ADDRS_MAX; i++)
		q->addrs[q->n_addrs++] = addrs[i];
	if (--q->pending == 0)
		to_worker(q);
}

static void on_txt(void *arg, enum dns_status st, char *const *texts, size_t n)
{
	struct request *q = arg;
	q->have_txt = st == DNS_OK && mtasts_txt_pick(texts, n, q->txt_id);
	if (st == DNS_TEMPFAIL)
		snprintf(q->r.why, sizeof(q->r.why), "_mta-sts TXT lookup failed");
	if (!q->have_txt || q->m->stopped) {
		to_worker(q);
		return;
	}
	q->pending = 2;
	dns_query_addr(q->dns, q->host, AF_INET, on_host_addr, q);
	dns_query_addr(q->dns, q->host, AF_INET6, on_host_addr, q);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

void mtasts_lookup_start(struct mtasts_lookup *m, struct dns *d, const struct config *c, const char *domain,
			 mtasts_lookup_cb cb, void *arg)
{
	struct request *q = xcalloc(1, sizeof(*q));
	const char *ca = c->outbound_tls.mta_sts.ca_file;
	*q = (struct request){ .m = m, .dns = d, .ca_file = ca ? xstrdup(ca) : NULL,
			       .timeout_ms = c->outbound_tls.mta_sts.fetch_timeout_ms,
			       .port = c->outbound_tls.mta_sts.https_port, .cb = cb, .arg = arg };
	snprintf(q->domain, sizeof(q->domain), "%s", domain);
	lower(q->domain);
	snprintf(q->host, sizeof(q->host), "mta-sts.%s", q->domain);
	if (m->stopped || !d) {
		to_worker(q);
		return;
	}
	char name[300];
	snprintf(name, sizeof(name), "_mta-sts.%s", q->domain);
	dns_query_txt(d, name, on_txt, q);
}
