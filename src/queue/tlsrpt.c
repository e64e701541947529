/*
 * See tlsrpt.h. Runs on the queue process's event loop.
 */
#include "queue/tlsrpt.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "dns/dns.h"
#include "policy/tlsrpt_record.h"
#include "queue/local_mail.h"
#include "queue/scheduler.h"
#include "queue/spool.h"
#include "queue/tlsrpt_report.h"
#include "queue/tlsrpt_session.h"
#include "state/tlsrpt_store.h"
#include "util/alloc.h"
#include "util/log.h"

#define DAY_SECONDS 86400
#define FLUSH_DELAY 5            /* seconds a count waits in memory */
#define PENDING_MAX 1024         /* distinct counts kept before they are written at once */
#define DAILY_OFFSET 600         /* the daily run starts at 00:10 UTC */
#define CATCH_UP_DELAY 60        /* ... and this long after the queue starts */
#define KEEP_DAYS 14             /* counts older than this are pruned */

struct pending {
	char day[11];
	struct tlsrpt_session s;
	unsigned long long count;
};

struct tlsrpt {
	struct event_base *base;
	struct scheduler *sch;
	struct spool *spool;
	char path[PATH_MAX];
	struct tlsrpt_store *store;
	struct pending *pending;
	size_t n_pending, cap_pending;
	struct event *flush_ev, *daily_ev;
};

/* One domain's report in the making: its TXT lookup is out. */
struct report_job {
	struct tlsrpt *t;
	const struct config *c;   /* referenced */
	char day[11];
	char domain[256];
};

static void day_of(time_t t, char day[11])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(day, 11, "%Y-%m-%d", &tm);
}

/* "YYYY-MM-DD" into 00:00:00 UTC of that day; false if it is not a date. */
static bool day_parse(const char *day, time_t *out)
{
	struct tm tm = { 0 };
	const char *end = strlen(day) == 10 ? strptime(day, "%Y-%m-%d", &tm) : NULL;
	if (!end || *end)
		return false;
	*out = timegm(&tm);
	char again[11];
	day_of(*out, again);
	return strcmp(again, day) == 0;  /* 2026-02-30 is no day */
}

static struct tlsrpt_store *store_of(struct tlsrpt *t)
{
	if (!t->store)
		t->store = tlsrpt_store_open(t->path);
	return t->store;
}

static bool same_key(const struct pending *p, const char *day, const struct tlsrpt_session *s)
{
	const struct tlsrpt_session *a = &p->s;
	return strcmp(p->day, day) == 0 && strcmp(a->domain, s->domain) == 0 &&
	       strcmp(a->policy_type, s->policy_type) == 0 && strcmp(a->policy_string, s->policy_string) == 0 &&
	       strcmp(a->mx_host, s->mx_host) == 0 && (a->result == s->result ||
		       (a->result && s->result && strcmp(a->result, s->result) == 0)) &&
	       strcmp(a->receiving_mx, s->receiving_mx) == 0 && strcmp(a->receiving_ip, s->receiving_ip) == 0 &&
	       strcmp(a->sending_ip, s->sending_ip) == 0 && strcmp(a->reason, s->reason) == 0;
}

/* Successes are stored without the host: the report counts them per
 * policy only (4.4 summary). */
static struct tlsrpt_row row_of(const struct pending *p)
{
	const struct tlsrpt_session *s = &p->s;
	return (struct tlsrpt_row){ s->domain, s->policy_type, s->policy_string, s->mx_host,
				    s->result ? s->result : "", s->result ? s->receiving_mx : "",
				    s->result ? s->receiving_ip : "", s->result ? s->sending_ip : "",
				    s->result ? s->reason : "", p->count };
}

/* Write the counts kept in memory, one transaction per day among them
 * (usually one). On a database error they are dropped (logged by the
 * store): counts are statistics, never worth holding mail for. */
static void flush(struct tlsrpt *t)
{
	if (t->n_pending == 0)
		return;
	struct tlsrpt_store *st = store_of(t);
	struct tlsrpt_row *rows = xcalloc(t->n_pending, sizeof(*rows));
	for (size_t i = 0; i < t->n_pending; i++) {
		if (!t->pending[i].count)
			continue;
		const char *day = t->pending[i].day;
		size_t n = 0;
		for (size_t k = i; k < t->n_pending; k++)
			if (t->pending[k].count && strcmp(t->pending[k].day, day) == 0) {
				rows[n++] = row_of(&t->pending[k]);
				if (k > i)
					t->pending[k].count = 0;
			}
		if (st)
			tlsrpt_store_add(st, day, rows, n);
		t->pending[i].count = 0;
	}
	for (size_t i = 0; i < t->n_pending; i++)
		tlsrpt_session_clear(&t->pending[i].s);
	free(rows);
	t->n_pending = 0;
	if (evtimer_pending(t->flush_ev, NULL))
		evtimer_del(t->flush_ev);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	flush(arg);
}

void tlsrpt_count(struct tlsrpt *t, const struct config *c, struct tlsrpt_session *s)
{
	if (!t || !c->outbound_tls.tlsrpt.enabled) {
		tlsrpt_session_clear(s);
		return;
	}
	char day[11];
	day_of(time(NULL), day);
	log_event(s->result ? LOG_INFO : LOG_DEBUG, "tlsrpt_session", "domain", s->domain, "policy",
		  s->policy_type, "result", s->result ? s->result : "success", "mx", s->receiving_mx, "ip",
		  s->receiving_ip, NULL);
	for (size_t i = 0; i < t->n_pending; i++)
		if (same_key(&t->pending[i], day, s)) {
			t->pending[i].count++;
			tlsrpt_session_clear(s);
			return;
		}
	if (t->n_pending == t->cap_pending) {
		t->cap_pending = t->cap_pending ? t->cap_pending * 2 : 16;
		t->pending = xreallocarray(t->pending, t->cap_pending, sizeof(*t->pending));
	}
	struct pending *p = &t->pending[t->n_pending++];
	snprintf(p->day, sizeof(p->day), "%s", day);
	p->s = *s;
	p->count = 1;
	*s = (struct tlsrpt_session){ 0 };
	if (t->n_pending >= PENDING_MAX)
		flush(t);
	else if (!evtimer_pending(t->flush_ev, NULL))
		evtimer_add(t->flush_ev, &(struct timeval){ .tv_sec = FLUSH_DELAY });
}

/* --- the report ----------------------------------------------------------- */

/* The store's rows, copied (its strings live only during the callback). */
struct row_list {
	struct tlsrpt_row *rows;
	size_t n, cap;
};

static void collect_row(void *arg, const struct tlsrpt_row *r)
{
	struct row_list *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->rows = xreallocarray(l->rows, l->cap, sizeof(*l->rows));
	}
	l->rows[l->n++] = (struct tlsrpt_row){ xstrdup(r->domain), xstrdup(r->policy_type),
					       xstrdup(r->policy_string), xstrdup(r->mx_host), xstrdup(r->result),
					       xstrdup(r->receiving_mx), xstrdup(r->receiving_ip),
					       xstrdup(r->sending_ip), xstrdup(r->reason), r->count };
}

static void row_list_free(struct row_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *f[] = { l->rows[i].domain, l->rows[i].policy_type, l->rows[i].policy_string,
				    l->rows[i].mx_host, l->rows[i].result, l->rows[i].receiving_mx,
				    l->rows[i].receiving_ip, l->rows[i].sending_ip, l->rows[i].reason };
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
			free((char *)f[k]);
	}
	free(l->rows);
}

static unsigned long long random_u64(void)
{
	unsigned long long v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (unsigned long long)time(NULL) ^ (unsigned long long)clock();
	return v;
}

/* The report mail of job's day and domain to the record's addresses,
 * committed to the spool; false if it could not be made or queued. */
static bool report_queue(struct report_job *job, struct tlsrpt_store *store, const struct tlsrpt_record *rec,
			 char *report_id, size_t idcap)
{
	const struct config *c = job->c;
	struct row_list rows = { 0 };
	if (!tlsrpt_store_rows(store, job->day, job->domain, collect_row, &rows) || rows.n == 0) {
		row_list_free(&rows);
		return false;
	}
	char from[300], to[TLSRPT_RUA_MAX * (TLSRPT_ADDR_MAX + 4)] = "", boundary[80], msgid[420];
	unsigned long long rnd = random_u64();
	time_t day = 0;
	day_parse(job->day, &day);
	snprintf(from, sizeof(from), c->outbound_tls.tlsrpt.from ? "%s" : "postmaster@%s",
		 c->outbound_tls.tlsrpt.from ? c->outbound_tls.tlsrpt.from : c->hostname);
	for (size_t i = 0; i < rec->n_mailto; i++)
		snprintf(to + strlen(to), sizeof(to) - strlen(to), "%s<%s>", i ? ", " : "", rec->mailto[i]);
	/* 4.4 report-id: unique; no ':' or '!', since it ends up in the attachment's name */
	snprintf(report_id, idcap, "%.4s%.2s%.2s.%016llx@%s", job->day, job->day + 5, job->day + 8, rnd, c->hostname);
	snprintf(boundary, sizeof(boundary), "=_mailwarden_tlsrpt_%016llx", rnd);
	snprintf(msgid, sizeof(msgid), "tlsrpt.%s", report_id);
	struct tlsrpt_report_info info = {
		.organization = c->outbound_tls.tlsrpt.organization ? c->outbound_tls.tlsrpt.organization : c->hostname,
		.contact = c->outbound_tls.tlsrpt.contact ? c->outbound_tls.tlsrpt.contact : from,
		.submitter = c->hostname, .from = from, .domain = job->domain, .day = day, .report_id = report_id,
		.to = to, .boundary = boundary, .message_id = msgid, .now = time(NULL),
	};
	size_t jlen, gzlen, mlen;
	char *json = tlsrpt_report_json(&info, rows.rows, rows.n, &jlen);
	row_list_free(&rows);
	unsigned char *gz = tlsrpt_gzip(json, jlen, &gzlen);
	free(json);
	if (!gz)
		return false;
	char *mail = tlsrpt_report_mail(&info, gz, gzlen, &mlen);
	free(gz);
	const char *rcpts[TLSRPT_RUA_MAX];
	for (size_t i = 0; i < rec->n_mailto; i++)
		rcpts[i] = rec->mailto[i];
	char id[32];
	bool queued = local_mail_queue_to(job->t->spool, job->t->sch, c->hostname, from, rcpts, rec->n_mailto, 0,
					  mail, mlen, id, sizeof(id));
	free(mail);
	if (!queued)
		return false;
	log_event(LOG_INFO, "tlsrpt_report_queued", "queue_id", id, "domain", job->domain, "day", job->day, "to",
		  to, "report_id", report_id, NULL);
	return true;
}

static void on_record(void *arg, enum dns_status st, char *const *texts, size_t n)
{
	struct report_job *job = arg;
	struct tlsrpt_record rec;
	char why[200] = "", report_id[400] = "-";
	struct tlsrpt_store *store = store_of(job->t);
	if (!store) {
		log_event(LOG_ERR, "tlsrpt_report_failed", "domain", job->domain, "day", job->day, "why",
			  "the TLS-RPT store cannot be opened", NULL);
	} else if (st == DNS_TEMPFAIL) {
		/* not marked: a later run tries again */
		log_event(LOG_WARNING, "tlsrpt_report_deferred", "domain", job->domain, "day", job->day, "why",
			  "_smtp._tls TXT lookup failed", NULL);
	} else if (st != DNS_OK || !tlsrpt_record_pick(texts, n, &rec, why, sizeof(why))) {
		log_event(LOG_INFO, "tlsrpt_no_report", "domain", job->domain, "day", job->day, "why",
			  st == DNS_OK ? why : "no _smtp._tls TXT record", NULL);
		tlsrpt_store_mark_sent(store, job->day, job->domain, report_id);
	} else if (report_queue(job, store, &rec, report_id, sizeof(report_id))) {
		if (rec.n_https)
			log_event(LOG_INFO, "tlsrpt_https_skipped", "domain", job->domain, "why",
				  "https: report URIs are not supported; sent by mail only", NULL);
		tlsrpt_store_mark_sent(store, job->day, job->domain, report_id);
	} else {
		log_event(LOG_ERR, "tlsrpt_report_failed", "domain", job->domain, "day", job->day, "why",
			  "the report could not be made or queued", NULL);
	}
	config_unref(job->c);
	free(job);
}

/* Start the reports of day (its domains not yet sent); the number started. */
static size_t run_day(struct tlsrpt *t, const struct config *c, const char *day, FILE *out)
{
	flush(t);
	struct dns *d = scheduler_dns(t->sch);
	struct tlsrpt_store *st = store_of(t);
	size_t n = 0;
	char **domains = st && d ? tlsrpt_store_unsent(st, day, &n) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct report_job *job = xcalloc(1, sizeof(*job));
		*job = (struct report_job){ .t = t, .c = config_ref(c) };
		snprintf(job->day, sizeof(job->day), "%s", day);
		snprintf(job->domain, sizeof(job->domain), "%s", domains[i]);
		if (out)
			fprintf(out, "report %s %s\n", day, domains[i]);
		char name[300];
		snprintf(name, sizeof(name), "_smtp._tls.%s", domains[i]);
		free(domains[i]);
		dns_query_txt(d, name, on_record, job);
	}
	free(domains);
	log_event(LOG_INFO, "tlsrpt_run", "day", day, "domains", log_u64(n), NULL);
	return n;
}

long tlsrpt_until_daily(time_t now)
{
	long into = (long)(now % DAY_SECONDS);
	return into < DAILY_OFFSET ? DAILY_OFFSET - into : DAY_SECONDS - into + DAILY_OFFSET;
}

static void on_daily(evutil_socket_t fd, short what, void *arg)
{
	struct tlsrpt *t = arg;
	const struct config *c = scheduler_config(t->sch);
	time_t now = time(NULL);
	if (c->outbound_tls.tlsrpt.enabled) {
		char yesterday[11], oldest[11];
		day_of(now - DAY_SECONDS, yesterday);
		day_of(now - KEEP_DAYS * DAY_SECONDS, oldest);
		run_day(t, c, yesterday, NULL);
		if (store_of(t))
			tlsrpt_store_prune(t->store, oldest);
	}
	evtimer_add(t->daily_ev, &(struct timeval){ .tv_sec = tlsrpt_until_daily(now) });
}

struct tlsrpt *tlsrpt_new(struct event_base *base, struct scheduler *sch, struct spool *spool, const char *state_dir)
{
	struct tlsrpt *t = xcalloc(1, sizeof(*t));
	*t = (struct tlsrpt){ .base = base, .sch = sch, .spool = spool };
	snprintf(t->path, sizeof(t->path), "%s/tlsrpt/sessions.db", state_dir);
	t->flush_ev = evtimer_new(base, on_flush, t);
	t->daily_ev = evtimer_new(base, on_daily, t);
	evtimer_add(t->daily_ev, &(struct timeval){ .tv_sec = CATCH_UP_DELAY });
	return t;
}

void tlsrpt_free(struct tlsrpt *t)
{
	if (!t)
		return;
	flush(t);
	free(t->pending);
	event_free(t->flush_ev);
	event_free(t->daily_ev);
	tlsrpt_store_close(t->store);
	free(t);
}

/* --- the administrator's commands ----------------------------------------- */

struct show_state {
	FILE *out;
	char domain[256], policy[64];   /* of the last heading printed */
	unsigned long long ok, failed;
};

static void show_row(void *arg, const struct tlsrpt_row *r)
{
	struct show_state *s = arg;
	if (strcmp(s->domain, r->domain) != 0 || strcmp(s->policy, r->policy_type) != 0) {
		fprintf(s->out, "domain %s policy %s\n", r->domain, r->policy_type);
		snprintf(s->domain, sizeof(s->domain), "%s", r->domain);
		snprintf(s->policy, sizeof(s->policy), "%s", r->policy_type);
	}
	if (!r->result[0])
		fprintf(s->out, "  success %llu\n", r->count);
	else
		fprintf(s->out, "  failure %s %llu mx %s ip %s%s%s\n", r->result, r->count,
			r->receiving_mx[0] ? r->receiving_mx : "-", r->receiving_ip[0] ? r->receiving_ip : "-",
			r->reason[0] ? " reason " : "", r->reason);
	*(r->result[0] ? &s->failed : &s->ok) += r->count;
}

/* words: [--day D] [DOMAIN] (show) or [--day D] (send) */
static bool parse_args(char *args, bool domain_allowed, char day[11], char **domain)
{
	char *words[4] = { 0 };
	size_t n = 0;
	for (char *save = NULL, *w = strtok_r(args, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (n == 4)
			return false;
		words[n++] = w;
	}
	time_t tday;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(words[i], "--day") == 0 && i + 1 < n && day_parse(words[i + 1], &tday))
			snprintf(day, 11, "%s", words[++i]);
		else if (domain_allowed && !*domain && words[i][0] != '-')
			*domain = words[i];
		else
			return false;
	}
	return true;
}

int tlsrpt_command(struct tlsrpt *t, const struct config *c, char *args, FILE *out)
{
	char day[11], *domain = NULL;
	bool show = strncmp(args, "show", 4) == 0 && (args[4] == ' ' || !args[4]);
	bool send = strncmp(args, "send", 4) == 0 && (args[4] == ' ' || !args[4]);
	day_of(time(NULL) - (send ? DAY_SECONDS : 0), day);  /* send: yesterday, show: today */
	if ((!show && !send) || !parse_args(args + 4, show, day, &domain)) {
		fputs("error: tlsrpt show [--day YYYY-MM-DD] [DOMAIN] | send [--day YYYY-MM-DD]\n", out);
		return -1;
	}
	if (!c->outbound_tls.tlsrpt.enabled) {
		fputs("error: TLS-RPT is off (outbound_tls.tlsrpt.enabled: false)\n", out);
		return -1;
	}
	if (send) {
		size_t n = run_day(t, c, day, out);
		fprintf(out, "%zu report(s) for %s started\n", n, day);
		return 0;
	}
	for (char *p = domain; p && *p; p++)  /* stored in lower case */
		*p = (char)tolower((unsigned char)*p);
	flush(t);
	struct show_state s = { .out = out };
	fprintf(out, "day %s\n", day);
	if (!store_of(t) || !tlsrpt_store_rows(t->store, day, domain, show_row, &s)) {
		fputs("error: the TLS-RPT store cannot be read\n", out);
		return -1;
	}
	fprintf(out, "total success %llu failure %llu\n", s.ok, s.failed);
	return 0;
}
