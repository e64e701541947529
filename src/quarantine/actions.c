/*
 * Release and delete (keeper_impl.h). Runs in the queue process's main
 * thread, for a control command.
 *
 * Release copies the held message unchanged (the bytes as received,
 * without the verdict's headers or subject prefix; outbound, with our
 * DKIM signature over those bytes) into a new QUEUED
 * message for the chosen recipients, then marks them done in the
 * quarantined file (its recipient status bytes, synced), then unlinks the
 * file once no recipient is left. The order makes a crash harmless: the
 * copy is durable before the mark, so the worst is a second delivery if
 * the same release is given again, never a loss.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "quarantine/keeper_impl.h"
#include "queue/envelope.h"
#include "queue/scheduler.h"
#include "queue/spool.h"
#include "state/quarantine_index.h"
#include "util/alloc.h"
#include "util/log.h"

/* The pending recipient of e that is addr (any case), or -1. */
static long pending_rcpt(const struct envelope *e, const char *addr)
{
	for (size_t i = 0; i < e->n_rcpts; i++)
		if (e->rcpts[i].status == RCPT_PENDING && strcasecmp(e->rcpts[i].addr, addr) == 0)
			return (long)i;
	return -1;
}

/* Which recipients the release is for: every pending one, or those
 * named (each must be a pending recipient of the message: a release never
 * sends held mail to anyone it was not addressed to). */
static bool choose(const struct envelope *e, char **to, size_t n_to, bool *chosen, FILE *out)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_rcpts; i++)
		chosen[i] = !n_to && e->rcpts[i].status == RCPT_PENDING;
	for (size_t i = 0; i < n_to; i++) {
		long r = pending_rcpt(e, to[i]);
		if (r < 0) {
			fprintf(out, "error: %s: %s is not a held recipient of this message\n", e->id, to[i]);
			return false;
		}
		chosen[r] = true;
	}
	for (size_t i = 0; i < e->n_rcpts; i++)
		n += chosen[i];
	if (!n)
		fprintf(out, "error: %s: no recipient left to release to\n", e->id);
	return n > 0;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* The envelope of the copy: the original's, for the chosen recipients,
 * with no verdict; added at delivery only what the scanner made for a
 * release (our DKIM signature over the original, outbound). */
static void copy_envelope(const struct envelope *e, const bool *chosen, struct envelope *c)
{
	memset(c, 0, sizeof(*c));
	c->arrival = (uint64_t)time(NULL);  /* queue.lifetime counts from the release */
	c->session = xstrdup(e->session ? e->session : "");
	c->client = xstrdup(e->client ? e->client : "");
	c->helo = xstrdup(e->helo ? e->helo : "");
	c->sender = xstrdup(e->sender);
	c->flags = e->flags & (ENVELOPE_F_8BITMIME | ENVELOPE_F_SMTPUTF8 | ENVELOPE_F_REQUIRETLS);
	c->dsn_ret = dup_or_null(e->dsn_ret);
	c->dsn_envid = dup_or_null(e->dsn_envid);
	c->add_headers = dup_or_null(e->release_headers);
	for (size_t i = 0; i < e->n_rcpts; i++) {
		if (!chosen[i])
			continue;
		envelope_add_rcpt(c, e->rcpts[i].addr);
		c->rcpts[c->n_rcpts - 1].dsn_notify = dup_or_null(e->rcpts[i].dsn_notify);
		c->rcpts[c->n_rcpts - 1].dsn_orcpt = dup_or_null(e->rcpts[i].dsn_orcpt);
	}
}

/* Queue the copy; its new id in new_id. False on a spool error. */
static bool requeue(struct keeper *k, int fd, const struct envelope *e, const bool *chosen, char *new_id)
{
	size_t len = (size_t)(e->body_end - e->body_offset);
	unsigned char *msg = xmalloc(len + 1);
	bool ok = pread(fd, msg, len, e->body_offset) == (ssize_t)len;
	struct envelope c;
	copy_envelope(e, chosen, &c);
	int nfd = ok ? spool_inject(k->spool, &c, msg, len) : -1;
	free(msg);
	if (nfd < 0) {
		envelope_clear(&c);
		return false;
	}
	snprintf(new_id, QUEUE_ID_LEN + 1, "%s", c.id);
	scheduler_add(k->sch, &c, nfd, false);
	return true;
}

/* The chosen recipients are done in the quarantined file; true if none
 * is left pending there. */
static bool mark_released(struct keeper *k, int fd, const struct envelope *e, const bool *chosen, bool *marked)
{
	size_t left = 0;
	*marked = true;
	for (size_t i = 0; i < e->n_rcpts; i++) {
		if (chosen[i]) {
			*marked &= spool_mark(k->spool, fd, &e->rcpts[i], RCPT_DELIVERED) == 0;
			qindex_mark_released(k->index, e->id, e->rcpts[i].addr);
		} else {
			left += e->rcpts[i].status == RCPT_PENDING;
		}
	}
	*marked = *marked && spool_sync_marks(k->spool, fd) == 0;
	return left == 0;
}

static void log_action(struct keeper *k, const char *event, const char *what, const char *id, const char *new_id,
		       const char *to, const struct keeper_actor *who)
{
	log_event(LOG_NOTICE, event, "queue_id", id, "new_queue_id", new_id, "to", to, "by", who->user, "operator",
		  who->operator, NULL);
	char detail[1200];
	snprintf(detail, sizeof(detail), "%s%s%s", new_id ? new_id : "", new_id && to ? " to " : "", to ? to : "");
	qindex_log_action(k->index, (uint64_t)time(NULL), id, what, who->user, who->operator,
			  detail[0] ? detail : NULL);
}

/* "a@x,b@y" of the chosen recipients, cut to cap. */
static void join_chosen(const struct envelope *e, const bool *chosen, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = 0; i < e->n_rcpts; i++)
		if (chosen[i]) {
			size_t used = strlen(buf);
			snprintf(buf + used, cap - used, "%s%s", used ? "," : "", e->rcpts[i].addr);
		}
}

static int release_open(struct keeper *k, int fd, struct envelope *e, char **to, size_t n_to,
			const struct keeper_actor *who, FILE *out)
{
	bool *chosen = xcalloc(e->n_rcpts + 1, sizeof(*chosen));
	char new_id[QUEUE_ID_LEN + 1], rcpts[1024];
	bool ok = choose(e, to, n_to, chosen, out);  /* says why not */
	if (ok && !requeue(k, fd, e, chosen, new_id)) {
		fprintf(out, "error: %s: the copy could not be queued (see the queue's log)\n", e->id);
		ok = false;
	}
	if (!ok) {
		free(chosen);
		return -1;
	}
	join_chosen(e, chosen, rcpts, sizeof(rcpts));
	bool marked, none_left = mark_released(k, fd, e, chosen, &marked);
	if (none_left && spool_delete_quarantined(k->spool, e->id) == 0)
		qindex_remove(k->index, e->id);
	log_action(k, "quarantine_release", "release", e->id, new_id, rcpts, who);
	free(chosen);
	if (!marked && !none_left) {
		fprintf(out, "error: %s: released as %s, but the quarantined file could not be marked: a second "
			     "release would send it again\n", e->id, new_id);
		return -1;
	}
	fprintf(out, "%s: released to %s as %s%s\n", e->id, rcpts, new_id, none_left ? "" : " (still held for the others)");
	return 0;
}

int keeper_release(struct keeper *k, const char *id, char **to, size_t n_to, const struct keeper_actor *who,
		   FILE *out)
{
	int fd = spool_open_quarantined(k->spool, id, true);
	struct envelope e;
	if (fd < 0 || !envelope_read(fd, &e)) {
		fprintf(out, "error: %s: not in the quarantine%s\n", id, fd < 0 ? "" : " (unreadable file)");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(e.id, sizeof(e.id), "%s", id);
	int rc = release_open(k, fd, &e, to, n_to, who, out);
	envelope_clear(&e);
	close(fd);
	return rc;
}

int keeper_delete(struct keeper *k, const char *id, const struct keeper_actor *who, FILE *out)
{
	if (spool_delete_quarantined(k->spool, id) < 0) {
		fprintf(out, "error: %s: not in the quarantine\n", id);
		return -1;
	}
	qindex_remove(k->index, id);
	log_action(k, "quarantine_delete", "delete", id, NULL, NULL, who);
	fprintf(out, "%s: deleted\n", id);
	return 0;
}
