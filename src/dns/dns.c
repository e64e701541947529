#include "dns/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "util/alloc.h"
#include "util/log.h"

#define DNS_MAX_RESULTS 64

/* One libevent event per socket c-ares uses. */
struct dns_sock {
	struct dns_sock *next;
	ares_socket_t fd;
	struct event *ev;
	struct dns *d;
};

struct query;

struct dns {
	struct event_base *base;
	ares_channel channel;
	struct dns_sock *socks;
	struct event *timer;
	TAILQ_HEAD(, query) deferred;   /* answered in the call, callback not yet run */
};

enum query_kind { Q_MX, Q_ADDR, Q_PTR, Q_TXT };

struct query {
	struct dns *d;
	enum query_kind kind;
	int family;
	unsigned char addr[16];  /* PTR: the address asked about */
	union {
		dns_mx_cb mx;
		dns_addr_cb addr;
		dns_text_cb text;
	} cb;
	void *arg;
	bool in_call;           /* c-ares answered synchronously: defer the callback */
	enum dns_status early;  /* ... with this status */
	struct event *ev;       /* ... to this event, in d->deferred until it runs */
	TAILQ_ENTRY(query) link;
};

const char *dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_TEMPFAIL: return "tempfail";
	case DNS_BADNAME: return "badname";
	}
	return "unknown";
}

static enum dns_status map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS: return DNS_OK;
	case ARES_ENOTFOUND: return DNS_NXDOMAIN;
	case ARES_ENODATA: return DNS_NODATA;
	case ARES_EBADNAME: return DNS_BADNAME;
	default: return DNS_TEMPFAIL;
	}
}

static void rearm_timer(struct dns *d)
{
	struct timeval max = { .tv_sec = 60 }, tv;
	struct timeval *t = ares_timeout(d->channel, &max, &tv);
	evtimer_add(d->timer, t);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;
	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm_timer(d);
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct dns_sock *s = arg;
	struct dns *d = s->d;
	ares_process_fd(d->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	rearm_timer(d);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	struct dns_sock **pp = &d->socks, *s;
	while ((s = *pp) && s->fd != fd)
		pp = &s->next;
	if (s) {
		event_free(s->ev);
		if (!readable && !writable) {
			*pp = s->next;
			free(s);
			return;
		}
	} else {
		if (!readable && !writable)
			return;
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		s->d = d;
		s->next = d->socks;
		d->socks = s;
	}
	s->ev = event_new(d->base, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) | EV_PERSIST,
			  on_socket, s);
	event_add(s->ev, NULL);
}

struct dns *dns_new(struct event_base *base, const char *servers, unsigned timeout_ms, unsigned tries)
{
	static bool library_ready;
	if (!library_ready && ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS)
		library_ready = true;
	struct dns *d = xcalloc(1, sizeof(*d));
	d->base = base;
	/* lookups "b": DNS only, never /etc/hosts, so every answer is asynchronous. */
	struct ares_options o = { .sock_state_cb = sock_state, .sock_state_cb_data = d,
				  .timeout = (int)timeout_ms, .tries = (int)tries, .lookups = (char *)"b" };
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
	int rc = ares_init_options(&d->channel, &o, mask);
	if (rc == ARES_SUCCESS && servers && *servers)
		rc = ares_set_servers_ports_csv(d->channel, servers);
	if (rc != ARES_SUCCESS) {
		log_event(LOG_ERR, "dns_error", "msg", ares_strerror(rc), "servers", servers, NULL);
		if (d->channel)
			ares_destroy(d->channel);
		free(d);
		return NULL;
	}
	d->timer = evtimer_new(base, on_timer, d);
	TAILQ_INIT(&d->deferred);
	return d;
}

static void deliver_empty(struct query *q, enum dns_status st);

void dns_free(struct dns *d)
{
	if (!d)
		return;
	ares_destroy(d->channel);  /* calls pending callbacks with ARES_EDESTRUCTION */
	/* Answers deferred to a loop that will not run again are delivered
	 * now, as a temporary failure like the others: whoever waits for them
	 * (a delivery) must not be forgotten at exit (issue 18 item 12). */
	struct query *q;
	while ((q = TAILQ_FIRST(&d->deferred)) != NULL) {
		TAILQ_REMOVE(&d->deferred, q, link);
		event_free(q->ev);
		deliver_empty(q, DNS_TEMPFAIL);
		free(q);
	}
	while (d->socks) {
		struct dns_sock *s = d->socks;
		d->socks = s->next;
		event_free(s->ev);
		free(s);
	}
	event_free(d->timer);
	free(d);
}

/* --- delivering results ------------------------------------------------ */

static void deliver_empty(struct query *q, enum dns_status st)
{
	switch (q->kind) {
	case Q_MX: q->cb.mx(q->arg, st, NULL, 0); break;
	case Q_ADDR: q->cb.addr(q->arg, st, NULL, 0); break;
	case Q_PTR: case Q_TXT: q->cb.text(q->arg, st, NULL, 0); break;
	}
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct query *q = arg;
	TAILQ_REMOVE(&q->d->deferred, q, link);
	event_free(q->ev);
	deliver_empty(q, q->early);
	free(q);
}

/* True if the answer came during the query call: then it is deferred. */
static bool deferred(struct query *q, int status)
{
	if (!q->in_call)
		return false;
	q->early = status == ARES_SUCCESS ? DNS_TEMPFAIL : map_status(status);
	q->ev = evtimer_new(q->d->base, on_deferred, q);
	evtimer_add(q->ev, &(struct timeval){ 0 });
	TAILQ_INSERT_TAIL(&q->d->deferred, q, link);
	return true;
}

/* An answer with nothing of the type asked is NODATA; one that does not
 * parse is DNS garbage (attack catalogue case 154), a temporary failure:
 * never "no MX", which would send the mail to the domain's own address
 * (RFC 5321 5.1), nor "no address", which bounces it. */
static enum dns_status parse_status(int rc)
{
	return rc == ARES_SUCCESS ? DNS_OK : rc == ARES_ENODATA ? DNS_NODATA : DNS_TEMPFAIL;
}

static int mx_order(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;
	return (x->preference > y->preference) - (x->preference < y->preference);
}

/* Where a record of this preference goes among the *n kept: a free slot,
 * else the place of the worst kept one if it is better, else nowhere
 * (DNS_MAX_RESULTS). A domain may publish hundreds of MX records (attack
 * catalogue case 154); the lowest preferences are the ones to try (RFC
 * 5321 5.1), wherever they come in the answer. */
static size_t mx_slot(const struct dns_mx *mx, size_t *n, unsigned preference)
{
	if (*n < DNS_MAX_RESULTS)
		return (*n)++;
	size_t worst = 0;
	for (size_t i = 1; i < *n; i++)
		if (mx[i].preference > mx[worst].preference)
			worst = i;
	return preference < mx[worst].preference ? worst : DNS_MAX_RESULTS;
}

static void on_mx(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	if (deferred(q, status))
		return;
	struct ares_mx_reply *reply = NULL;
	enum dns_status st = map_status(status);
	if (st == DNS_OK)
		st = parse_status(ares_parse_mx_reply(abuf, alen, &reply));
	struct dns_mx mx[DNS_MAX_RESULTS];
	size_t n = 0;
	for (struct ares_mx_reply *r = reply; r; r = r->next) {
		size_t at = mx_slot(mx, &n, r->priority);
		if (at == DNS_MAX_RESULTS)
			continue;
		mx[at].preference = r->priority;
		/* The "." target of a null MX arrives as an empty name. */
		snprintf(mx[at].host, sizeof(mx[at].host), "%s", strcmp(r->host, ".") == 0 ? "" : r->host);
	}
	if (reply)
		ares_free_data(reply);
	qsort(mx, n, sizeof(mx[0]), mx_order);
	q->cb.mx(q->arg, st == DNS_OK && n == 0 ? DNS_NODATA : st, mx, n);
	free(q);
}

static void on_addr(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	if (deferred(q, status))
		return;
	enum dns_status st = map_status(status);
	struct sockaddr_storage out[DNS_MAX_RESULTS];
	memset(out, 0, sizeof(out));
	int n = 0;
	if (st == DNS_OK && q->family == AF_INET) {
		struct ares_addrttl a[DNS_MAX_RESULTS];
		n = DNS_MAX_RESULTS;
		st = parse_status(ares_parse_a_reply(abuf, alen, NULL, a, &n));
		if (st != DNS_OK)
			n = 0;
		for (int i = 0; i < n; i++) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&out[i];
			sin->sin_family = AF_INET;
			sin->sin_addr = a[i].ipaddr;
		}
	} else if (st == DNS_OK) {
		struct ares_addr6ttl a[DNS_MAX_RESULTS];
		n = DNS_MAX_RESULTS;
		st = parse_status(ares_parse_aaaa_reply(abuf, alen, NULL, a, &n));
		if (st != DNS_OK)
			n = 0;
		for (int i = 0; i < n; i++) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out[i];
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, &a[i].ip6addr, sizeof(sin6->sin6_addr));
		}
	}
	q->cb.addr(q->arg, st == DNS_OK && n == 0 ? DNS_NODATA : st, out, (size_t)n);
	free(q);
}

static void on_txt(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	if (deferred(q, status))
		return;
	enum dns_status st = map_status(status);
	struct ares_txt_ext *reply = NULL;
	if (st == DNS_OK && ares_parse_txt_reply_ext(abuf, alen, &reply) != ARES_SUCCESS)
		st = DNS_TEMPFAIL;
	char *texts[DNS_MAX_RESULTS] = { 0 };
	size_t n = 0;
	/* Strings of one record follow each other; record_start marks a new one. */
	for (struct ares_txt_ext *t = reply; t; t = t->next) {
		if (t->record_start || n == 0) {
			if (n == DNS_MAX_RESULTS)
				break;
			texts[n++] = xstrdup("");
		}
		char *cur = texts[n - 1];
		size_t old = strlen(cur);
		if (old + t->length > 65535)
			continue;
		cur = xreallocarray(cur, old + t->length + 1, 1);
		memcpy(cur + old, t->txt, t->length);
		cur[old + t->length] = '\0';
		texts[n - 1] = cur;
	}
	if (reply)
		ares_free_data(reply);
	q->cb.text(q->arg, st == DNS_OK && n == 0 ? DNS_NODATA : st, texts, n);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(q);
}

/* A PTR answer for the reverse name. (Not ares_gethostbyaddr: it turns a
 * timeout or SERVFAIL into ARES_ENOTFOUND, and "no reverse DNS" must not be
 * confused with "the resolver is down".) */
static void on_ptr(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	if (deferred(q, status))
		return;
	enum dns_status st = map_status(status);
	struct hostent *h = NULL;
	if (st == DNS_OK && ares_parse_ptr_reply(abuf, alen, q->addr, q->family == AF_INET6 ? 16 : 4,
						 q->family, &h) != ARES_SUCCESS)
		st = DNS_NODATA;
	char *names[DNS_MAX_RESULTS];
	size_t n = 0;
	if (st == DNS_OK && h) {
		if (h->h_name)
			names[n++] = h->h_name;
		for (char **a = h->h_aliases; a && *a && n < DNS_MAX_RESULTS; a++)
			names[n++] = *a;
	}
	q->cb.text(q->arg, st == DNS_OK && n == 0 ? DNS_NODATA : st, names, n);
	if (h)
		ares_free_hostent(h);
	free(q);
}

static struct query *query_new(struct dns *d, enum query_kind kind, void *arg)
{
	struct query *q = xcalloc(1, sizeof(*q));
	q->d = d;
	q->kind = kind;
	q->arg = arg;
	q->in_call = true;
	return q;
}

void dns_query_mx(struct dns *d, const char *domain, dns_mx_cb cb, void *arg)
{
	struct query *q = query_new(d, Q_MX, arg);
	q->cb.mx = cb;
	ares_query(d->channel, domain, ns_c_in, ns_t_mx, on_mx, q);
	q->in_call = false;
	rearm_timer(d);
}

void dns_query_addr(struct dns *d, const char *name, int family, dns_addr_cb cb, void *arg)
{
	struct query *q = query_new(d, Q_ADDR, arg);
	q->cb.addr = cb;
	q->family = family == AF_INET6 ? AF_INET6 : AF_INET;
	ares_query(d->channel, name, ns_c_in, q->family == AF_INET ? ns_t_a : ns_t_aaaa, on_addr, q);
	q->in_call = false;
	rearm_timer(d);
}

void dns_query_txt(struct dns *d, const char *name, dns_text_cb cb, void *arg)
{
	struct query *q = query_new(d, Q_TXT, arg);
	q->cb.text = cb;
	ares_query(d->channel, name, ns_c_in, ns_t_txt, on_txt, q);
	q->in_call = false;
	rearm_timer(d);
}

void dns_query_ptr(struct dns *d, const struct sockaddr *sa, dns_text_cb cb, void *arg)
{
	struct query *q = query_new(d, Q_PTR, arg);
	q->cb.text = cb;
	char name[80];
	size_t o = 0;
	if (sa->sa_family == AF_INET6) {
		q->family = AF_INET6;
		memcpy(q->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		static const char hex[] = "0123456789abcdef";
		for (int i = 15; i >= 0; i--) {
			name[o++] = hex[q->addr[i] & 15];
			name[o++] = '.';
			name[o++] = hex[q->addr[i] >> 4];
			name[o++] = '.';
		}
		snprintf(name + o, sizeof(name) - o, "ip6.arpa");
	} else {
		q->family = AF_INET;
		memcpy(q->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		snprintf(name, sizeof(name), "%u.%u.%u.%u.in-addr.arpa", q->addr[3], q->addr[2], q->addr[1],
			 q->addr[0]);
	}
	ares_query(d->channel, name, ns_c_in, ns_t_ptr, on_ptr, q);
	q->in_call = false;
	rearm_timer(d);
}

void dns_system_servers(char *out, size_t cap)
{
	out[0] = '\0';
	FILE *f = fopen("/etc/resolv.conf", "re");
	if (!f)
		return;
	char line[512];
	size_t used = 0;
	while (fgets(line, sizeof(line), f)) {
		char addr[128];
		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		bool v6 = strchr(addr, ':') != NULL;
		int n = snprintf(out + used, cap - used, "%s%s%s%s", used ? "," : "", v6 ? "[" : "", addr, v6 ? "]" : "");
		if (n < 0 || (size_t)n >= cap - used) {
			out[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
	fclose(f);
}
