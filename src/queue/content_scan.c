/*
 * See content_scan.h. Runs in the queue process.
 */
#include "queue/content_scan.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc/channel.h"
#include "ipc/txn.h"
#include "queue/msgview.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/memfd.h"

struct content_scan {
	TAILQ_ENTRY(content_scan) link;
	struct content_client *cc;
	uint32_t reqid;
	uint64_t size;               /* of the message sent */
	struct event *deadline;
	content_scan_done done;
	void *arg;
	/* What was sent, and to which scanner, kept until the answer: a
	 * scanner retired by a reload (issue 11: rule files changed) may
	 * leave without reading a request that reached it after its stop
	 * began; its successor gets it, once. */
	struct channel *ch;
	struct ipc_scan_request *req;
	int view;
	bool resent;
};

TAILQ_HEAD(scan_list, content_scan);

struct content_client {
	struct event_base *base;
	struct channel *ch;          /* the newest scanner, NULL while none is connected */
	struct channel **retiring;   /* replaced scanners finishing what they have */
	size_t n_retiring;
	struct scan_list pending;
	uint32_t next_reqid;
};

static void scan_free(struct content_scan *cs)
{
	TAILQ_REMOVE(&cs->cc->pending, cs, link);
	event_free(cs->deadline);
	free(cs->req);
	close(cs->view);
	free(cs);
}

/* The one way a scan ends: its callback, then it is gone. */
static void scan_end(struct content_scan *cs, const struct ipc_scan_result *r, int rewrite_fd, const char *why)
{
	content_scan_done done = cs->done;
	void *arg = cs->arg;
	scan_free(cs);
	done(arg, r, rewrite_fd, why);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	scan_end(arg, NULL, -1, "the scanner did not answer in time");
}

/* A rewritten message is taken only as a sealed memfd of the size the
 * result announces, within the growth a rewrite may add (SEC-1: the
 * scanner is trusted with a verdict, not with the spool). */
static bool rewrite_ok(int fd, const struct ipc_scan_result *r, uint64_t scanned)
{
	uint64_t size;
	return memfd_is_sealed(fd, &size) && size == r->rewritten_size &&
	       size <= scanned + IPC_SCAN_REWRITE_GROWTH;
}

static void on_scanner_msg(struct channel *ch, struct ipc_msg *m, int fd, void *arg)
{
	struct content_client *cc = arg;
	struct ipc_scan_result *r = xmalloc(sizeof(*r));
	bool ok = m->type == IPC_SCAN_RESULT && ipc_scan_result_decode(m, r) && r->rewritten == (fd >= 0);
	struct content_scan *cs;
	TAILQ_FOREACH(cs, &cc->pending, link)
		if (cs->reqid == m->reqid && cs->ch == ch)
			break;
	const char *why = "the scanner's answer did not decode";
	if (ok && fd >= 0 && cs && !rewrite_ok(fd, r, cs->size)) {
		ok = false;
		why = "the scanner's rewritten message is not a sealed view of the announced size";
	}
	if (!ok)
		log_event(LOG_ERR, "ipc_error", "msg", "bad message from the scanner", "type",
			  ipc_type_name(m->type), "reason", why, NULL);
	if (cs) {
		scan_end(cs, ok ? r : NULL, ok ? fd : -1, ok ? NULL : why);
		if (ok)
			fd = -1;  /* the callback's now */
	}
	if (fd >= 0)
		close(fd);
	free(r);
}

static void scan_send(struct content_scan *cs, struct channel *ch)
{
	struct ipc_msg *m = xmalloc(sizeof(*m));
	ipc_scan_request_encode(m, cs->reqid, cs->req);
	cs->ch = ch;
	channel_send(ch, m, cs->view);  /* dup'ed: the scanner gets its own */
	free(m);
}

static struct content_scan *first_on(struct content_client *cc, const struct channel *ch)
{
	struct content_scan *cs;
	TAILQ_FOREACH(cs, &cc->pending, link)
		if (cs->ch == ch)
			return cs;
	return NULL;
}

static void retiring_forget(struct content_client *cc, struct channel *ch)
{
	for (size_t i = 0; i < cc->n_retiring; i++)
		if (cc->retiring[i] == ch) {
			cc->retiring[i] = cc->retiring[--cc->n_retiring];
			return;
		}
}

/* A scanner left. Its unanswered scans fail (the caller's policy: 451 or
 * accept unscanned), except that a replaced scanner's go once to the
 * scanner that replaced it: it finished what it had read, and a request
 * it never read is no reason to turn a message away. A scanner that
 * dies while it is the newest (a crash) fails its scans at once. */
static void on_scanner_closed(struct channel *ch, const char *why, void *arg)
{
	struct content_client *cc = arg;
	bool newest = cc->ch == ch;
	if (newest)
		cc->ch = NULL;
	else
		retiring_forget(cc, ch);
	size_t resent = 0, failed = 0;
	struct content_scan *cs;
	/* From the top each time: a callback may end other scans. A scan
	 * sent again is on another channel, one that failed is gone. */
	while ((cs = first_on(cc, ch)) != NULL) {
		if (!newest && cc->ch && !cs->resent) {
			cs->resent = true;
			scan_send(cs, cc->ch);
			resent++;
		} else {
			failed++;
			scan_end(cs, NULL, -1, newest ? "the scanner went away" : "the replaced scanner went away");
		}
	}
	log_event(newest ? LOG_WARNING : LOG_INFO, "scanner_gone", "msg", why, "replaced", newest ? "no" : "yes",
		  "resent", log_u64(resent), "failed", log_u64(failed), NULL);
}

struct content_client *content_client_new(struct event_base *base)
{
	struct content_client *cc = xcalloc(1, sizeof(*cc));
	cc->base = base;
	TAILQ_INIT(&cc->pending);
	return cc;
}

void content_client_free(struct content_client *cc)
{
	struct content_scan *cs;
	while ((cs = TAILQ_FIRST(&cc->pending)) != NULL)
		scan_free(cs);
	if (cc->ch)
		channel_free(cc->ch);
	for (size_t i = 0; i < cc->n_retiring; i++)
		channel_free(cc->retiring[i]);
	free(cc->retiring);
	free(cc);
}

/* A new scanner (a restart, or a reload replacing the running one): new
 * scans go to it; the one it replaces keeps its channel until it has
 * answered what it took and leaves (SIGTERM from the master). */
void content_client_attach(struct content_client *cc, int fd)
{
	if (cc->ch) {
		cc->retiring = xreallocarray(cc->retiring, cc->n_retiring + 1, sizeof(*cc->retiring));
		cc->retiring[cc->n_retiring++] = cc->ch;
	}
	cc->ch = channel_new(cc->base, fd, on_scanner_msg, on_scanner_closed, cc);
	log_event(LOG_INFO, "scanner_connected", "retiring", log_u64(cc->n_retiring), NULL);
}

struct content_scan *content_scan_start(struct content_client *cc, int fd, off_t from, off_t end,
					struct ipc_scan_request *req, unsigned timeout_ms, content_scan_done done,
					void *arg, const char **why)
{
	if (!cc->ch) {
		*why = "the scanner is not running";
		return NULL;
	}
	int view = msgview_sealed_copy(fd, from, end);
	if (view < 0) {
		*why = "no message view for the scanner (memfd)";
		return NULL;
	}
	struct content_scan *cs = xcalloc(1, sizeof(*cs));
	cs->cc = cc;
	cs->reqid = ++cc->next_reqid;
	cs->size = (uint64_t)(end - from);
	cs->done = done;
	cs->arg = arg;
	cs->view = view;
	cs->deadline = evtimer_new(cc->base, on_deadline, cs);
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	evtimer_add(cs->deadline, &tv);
	TAILQ_INSERT_TAIL(&cc->pending, cs, link);
	req->size = (uint64_t)(end - from);
	cs->req = xmalloc(sizeof(*cs->req));
	memcpy(cs->req, req, sizeof(*cs->req));
	scan_send(cs, cc->ch);
	log_event(LOG_DEBUG, "scan_sent", "queue_id", req->queue_id, "size", log_u64(req->size), NULL);
	return cs;
}

void content_scan_cancel(struct content_scan *cs)
{
	if (cs)
		scan_free(cs);
}

void content_client_health(const struct content_client *cc, bool *connected, size_t *in_flight)
{
	size_t n = 0;
	const struct content_scan *cs;
	TAILQ_FOREACH(cs, &cc->pending, link)
		n++;
	*connected = cc->ch != NULL;
	*in_flight = n;
}
