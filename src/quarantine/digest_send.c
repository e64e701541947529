/*
 * keeper_digest (keeper_impl.h): one digest mail per recipient, built by
 * digest.h and queued like any message the queue makes itself (a DSN):
 * committed to queue/ and delivered by the scheduler through the normal
 * routes, never scanned. Only inbound mail is listed, to its recipients:
 * an outbound message's recipients are outside and are told nothing.
 * Runs in the queue process's main thread.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "quarantine/digest.h"
#include "quarantine/keeper_impl.h"
#include "queue/config.h"
#include "queue/envelope.h"
#include "queue/local_mail.h"
#include "state/quarantine_index.h"
#include "util/alloc.h"
#include "util/log.h"

struct digest_run {
	struct keeper *k;
	const struct config *c;
	const struct keeper_actor *who;
	char from[300];
	FILE *out;            /* the mail being written (open_memstream) */
	char *text;
	size_t len, listed, total;
};

static void on_begin(const char *rcpt, size_t total, void *arg)
{
	struct digest_run *d = arg;
	d->text = NULL;
	d->len = d->listed = 0;
	d->total = total;
	d->out = open_memstream(&d->text, &d->len);
	if (!d->out)
		return;
	char msgid[400];
	local_mail_message_id(msgid, sizeof(msgid), "digest", d->c->hostname);
	const struct queue_config *q = d->c->queue;
	struct digest_head h = { .hostname = d->c->hostname, .from = d->from, .to = rcpt,
				 .subject = q->quarantine_digest_subject, .message_id = msgid, .now = time(NULL),
				 .total = total };
	digest_write_head(d->out, &h);
}

static void on_row(const struct qindex_row *r, void *arg)
{
	struct digest_run *d = arg;
	if (d->out)
		digest_write_entry(d->out, r);
	d->listed++;
}

/* Queue the mail for rcpt. True if it is committed. */
static bool on_end(const char *rcpt, void *arg)
{
	struct digest_run *d = arg;
	if (!d->out)
		return false;
	digest_write_tail(d->out, d->listed, d->total);
	char id[64];
	/* 8BITMIME: subjects are listed decoded, in UTF-8. */
	bool ok = fclose(d->out) == 0 && local_mail_queue(d->k->spool, d->k->sch, d->c->hostname, d->from, rcpt,
							  ENVELOPE_F_8BITMIME, d->text, d->len, id, sizeof(id));
	d->out = NULL;
	free(d->text);
	d->text = NULL;
	if (!ok)
		return false;
	log_event(LOG_INFO, "quarantine_digest", "queue_id", id, "to", rcpt, "listed", log_u64(d->listed), "held",
		  log_u64(d->total), "by", d->who->user, "operator", d->who->operator, NULL);
	return true;
}

long keeper_digest(struct keeper *k, const struct config *c, const struct keeper_actor *who)
{
	const struct queue_config *q = c->queue;
	struct digest_run d = { .k = k, .c = c, .who = who };
	if (q->quarantine_digest_from)
		snprintf(d.from, sizeof(d.from), "%s", q->quarantine_digest_from);
	else
		snprintf(d.from, sizeof(d.from), "postmaster@%s", c->hostname);
	uint64_t now = (uint64_t)time(NULL);
	long sent = qindex_digest(k->index, q->quarantine_digest_max, on_begin, on_row, on_end, &d);
	qindex_set_last_digest(k->index, now);
	qindex_log_action(k->index, now, "", "digest", who->user, who->operator, log_u64((unsigned long long)sent));
	return sent;
}
