/*
 * Session counts for the queue: see session_report.h.
 */
#include "smtp/session_report.h"

#include <stdlib.h>

#include <event2/event.h>

#include "ipc/channel.h"
#include "ipc/txn.h"
#include "smtp/smtpd_internal.h"
#include "util/alloc.h"

static struct {
	struct event *timer;
	const struct channel *told;   /* the queue channel last told; NULL: none yet */
	unsigned sent;
} report;

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd *d = arg;
	if (!d->queue || (d->queue == report.told && d->n_sessions == report.sent))
		return;
	struct ipc_msg *m = xmalloc(sizeof(*m));
	ipc_sessions_encode(m, d->n_sessions);
	channel_send(d->queue, m, -1);
	free(m);
	report.told = d->queue;
	report.sent = d->n_sessions;
}

void session_report_start(struct smtpd *d)
{
	report.timer = evtimer_new(d->base, on_timer, d);
}

void session_report_changed(void)
{
	if (report.timer && !evtimer_pending(report.timer, NULL))
		evtimer_add(report.timer, &(struct timeval){ .tv_usec = SESSION_REPORT_MS * 1000 });
}

void session_report_new_queue(void)
{
	report.told = NULL;  /* a new channel may sit where the old one was freed */
	session_report_changed();
}

void session_report_stop(void)
{
	if (report.timer)
		event_free(report.timer);
	report.timer = NULL;
	report.told = NULL;
}
