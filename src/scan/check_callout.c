/*
 * Recipient exists, asked of the internal server that owns the domain
 * (SCAN-4, "callout"): for a recipient in one of our local domains whose
 * route is smtp:// or lmtp:// to a numeric address, and which the
 * recipient table does not cover, open a connection and probe
 *   EHLO/LHLO, MAIL FROM:<>, RCPT TO:<rcpt>, QUIT
 * A 5xx to RCPT is a hit; 2xx passes; anything else (4xx, timeout,
 * connection refused) passes without a verdict, since a broken internal
 * server must not make us refuse mail we would queue. Answers are cached
 * per smtpd process (known: 1 hour, unknown: 10 minutes) so a dictionary
 * attack does not become a flood against the internal server.
 * Non-blocking: libevent bufferevents on the session's loop.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "config/config.h"
#include "policy/route.h"
#include "scan/data.h"
#include "scan/scan.h"
#include "util/alloc.h"
#include "util/log.h"

#define CALLOUT_TIMEOUT 10
#define CACHE_SLOTS 1024
#define TTL_KNOWN 3600
#define TTL_UNKNOWN 600

enum probe_step { STEP_GREETING, STEP_HELLO, STEP_MAIL, STEP_RCPT, STEP_DONE };

struct probe {
	struct scan_job *job;
	struct bufferevent *bev;
	enum probe_step step;
	bool lmtp;
	char rcpt[600];
	char reply[512];
};

static struct {
	char rcpt[600];
	bool known;
	time_t expires;
	char reply[256];
} cache[CACHE_SLOTS];
static size_t cache_next;

static int cache_find(const char *rcpt)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].expires > now && strcasecmp(cache[i].rcpt, rcpt) == 0)
			return (int)i;
	return -1;
}

static void cache_put(const char *rcpt, bool known, const char *reply)
{
	size_t i = cache_next++ % CACHE_SLOTS;
	snprintf(cache[i].rcpt, sizeof(cache[i].rcpt), "%s", rcpt);
	/* A long reply is cut: the cache keeps its start, enough to quote. */
	snprintf(cache[i].reply, sizeof(cache[i].reply), "%.*s", (int)sizeof(cache[i].reply) - 1, reply);
	cache[i].known = known;
	cache[i].expires = time(NULL) + (known ? TTL_KNOWN : TTL_UNKNOWN);
}

static void unknown_hit(struct scan_job *job, const char *rcpt, const char *reply)
{
	char detail[900];
	snprintf(detail, sizeof(detail), "<%s>: Recipient address rejected: %s", rcpt, reply);
	scan_hit(job, "CALLOUT_UNKNOWN", -1, detail);
}

static void probe_end(struct probe *p, int code)
{
	struct scan_job *job = p->job;
	const char *result = code >= 200 && code < 300 ? "known" : code >= 500 && code < 600 ? "unknown" : "tempfail";
	log_event(LOG_INFO, "scan_callout", "rcpt", p->rcpt, "result", result, "reply", p->reply, NULL);
	if (code >= 200 && code < 300)
		cache_put(p->rcpt, true, p->reply);
	else if (code >= 500 && code < 600) {
		cache_put(p->rcpt, false, p->reply);
		if (scan_job_alive(job))
			unknown_hit(job, p->rcpt, p->reply);
	}
	if (p->bev) {
		/* A polite QUIT; the connection is closed at once either way. */
		bufferevent_write(p->bev, "QUIT\r\n", 6);
		bufferevent_free(p->bev);
	}
	free(p);
	scan_job_done(job);
}

/* verb, then the argument (client-derived text was checked by the address parser). */
static void send_line(struct probe *p, const char *verb, const char *arg, const char *end)
{
	char line[800];
	int n = snprintf(line, sizeof(line), "%s%s%s\r\n", verb, arg, end);
	if (n > 0 && (size_t)n < sizeof(line))
		bufferevent_write(p->bev, line, (size_t)n);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t len;
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (!line) {
			if (evbuffer_get_length(in) > 4096)
				probe_end(p, 0);
			return;
		}
		bool final = len >= 4 && line[3] == ' ';
		bool ok = len >= 3 && line[0] >= '2' && line[0] <= '5';
		int code = ok ? (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') : 0;
		if (!ok || (len > 3 && line[3] != ' ' && line[3] != '-')) {
			free(line);
			probe_end(p, 0);
			return;
		}
		snprintf(p->reply, sizeof(p->reply), "%s", line);
		for (char *c = p->reply; *c; c++)
			if (*c < ' ' || *c > '~')
				*c = '?';
		free(line);
		if (len == 3)
			final = true;
		if (!final)
			continue;
		switch (p->step) {
		case STEP_GREETING:
			if (code != 220)
				return probe_end(p, code >= 500 ? 0 : code);  /* not about the recipient */
			send_line(p, p->lmtp ? "LHLO " : "EHLO ", scan_job_config(p->job)->hostname, "");
			p->step = STEP_HELLO;
			break;
		case STEP_HELLO:
			if (code != 250)
				return probe_end(p, 0);
			send_line(p, "MAIL FROM:<>", "", "");
			p->step = STEP_MAIL;
			break;
		case STEP_MAIL:
			if (code != 250)
				return probe_end(p, 0);
			send_line(p, "RCPT TO:<", p->rcpt, ">");
			p->step = STEP_RCPT;
			break;
		case STEP_RCPT:
			p->step = STEP_DONE;
			return probe_end(p, code);
		case STEP_DONE:
			return;
		}
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	snprintf(p->reply, sizeof(p->reply), "%s", what & BEV_EVENT_TIMEOUT ? "timeout" : "connection failed");
	probe_end(p, 0);
}

static bool numeric_address(const struct route *r, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	unsigned port = (unsigned)strtoul(r->port, NULL, 10);
	struct sockaddr_in *v4 = (void *)ss;
	struct sockaddr_in6 *v6 = (void *)ss;
	if (inet_pton(AF_INET, r->host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return true;
	}
	if (inet_pton(AF_INET6, r->host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return true;
	}
	return false;
}

static void callout_rcpt(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	const struct config *c = scan_job_config(job);
	const struct scan_data *d = scan_process_data();
	const char *at = strrchr(f->rcpt, '@');
	bool covered = false;
	if (d)
		(void)scan_data_rcpt_known(d, f->rcpt, &covered);
	if (!at || covered || strncasecmp(f->rcpt, "postmaster@", 11) == 0 ||
	    !config_is_local_domain(c, at + 1, strlen(at + 1)) || !scan_job_base(job)) {
		scan_job_done(job);
		return;
	}
	const struct route *r = route_lookup(c->routes, c->n_routes, at + 1, strlen(at + 1));
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (!r || r->kind == ROUTE_MAILDIR || !numeric_address(r, &ss, &sslen)) {
		scan_job_done(job);
		return;
	}
	int hit = cache_find(f->rcpt);
	if (hit >= 0) {
		log_event(LOG_DEBUG, "scan_callout", "rcpt", f->rcpt, "result",
			  cache[hit].known ? "known" : "unknown", "cached", "yes", NULL);
		if (!cache[hit].known)
			unknown_hit(job, f->rcpt, cache[hit].reply);
		scan_job_done(job);
		return;
	}
	struct probe *p = xcalloc(1, sizeof(*p));
	p->job = job;
	p->lmtp = r->kind == ROUTE_LMTP;
	snprintf(p->rcpt, sizeof(p->rcpt), "%s", f->rcpt);
	p->bev = bufferevent_socket_new(scan_job_base(job), -1, BEV_OPT_CLOSE_ON_FREE);
	if (!p->bev) {
		free(p);
		scan_job_done(job);
		return;
	}
	bufferevent_setcb(p->bev, on_read, NULL, on_event, p);
	struct timeval tv = { .tv_sec = CALLOUT_TIMEOUT };
	bufferevent_set_timeouts(p->bev, &tv, &tv);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, (int)sslen) < 0) {
		bufferevent_free(p->bev);
		p->bev = NULL;
		snprintf(p->reply, sizeof(p->reply), "connect failed");
		probe_end(p, 0);
	}
}

const struct scan_check scan_check_callout = {
	.name = "callout",
	.default_reply = "550 5.1.1 Recipient unknown",
	.stage = { [SCAN_STAGE_RCPT] = callout_rcpt },
};
