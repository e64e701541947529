/*
 * See keeper.h: the index kept in step with quarantine/, expiry, and the
 * dispatch of the control commands. Runs in the queue process's main
 * thread.
 */
#include "quarantine/keeper_impl.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "content/check.h"
#include "content/mime.h"
#include "quarantine/digest.h"
#include "quarantine/listing.h"
#include "queue/config.h"
#include "queue/envelope.h"
#include "queue/spool.h"
#include "state/quarantine_index.h"
#include "util/alloc.h"
#include "util/log.h"
#include "verdict/points.h"

/* Where a Subject is looked for: the first 64 KiB of the message. */
#define HEAD_MAX (64u << 10)
#define SUBJECT_MAX 200
/* Messages expired in one run (the rest in the next second). */
#define EXPIRE_BATCH 200

int keeper_score_of(const char *verdict)
{
	const char *sp = verdict ? strchr(verdict, ' ') : NULL;
	int score = 0;  /* points_parse() leaves it alone on failure */
	if (sp) {
		const char *end = strchr(sp + 1, ' ');
		points_parse(sp + 1, end ? (size_t)(end - sp - 1) : strlen(sp + 1), &score);
	}
	return score;
}

/* The decoded Subject of the message in fd, cut to SUBJECT_MAX bytes. */
static void read_subject(int fd, const struct envelope *e, char *out)
{
	out[0] = '\0';
	uint64_t size = (uint64_t)(e->body_end - e->body_offset);
	size_t want = size < HEAD_MAX ? (size_t)size : HEAD_MAX;
	char *head = xmalloc(want + 1);
	ssize_t got = pread(fd, head, want, e->body_offset);
	if (got > 0) {
		char *text = mime_header_text(head, content_header_end(head, (size_t)got), "Subject");
		if (text)
			snprintf(out, SUBJECT_MAX + 1, "%s", text);
		free(text);
	}
	free(head);
}

/* Index the message of e (read from fd): its recipients still pending. */
static bool index_message(struct keeper *k, const struct envelope *e, int fd)
{
	char subject[SUBJECT_MAX + 1];
	read_subject(fd, e, subject);
	const char **rcpts = xcalloc(e->n_rcpts + 1, sizeof(*rcpts));
	size_t n = 0;
	for (size_t i = 0; i < e->n_rcpts; i++)
		if (e->rcpts[i].status == RCPT_PENDING)
			rcpts[n++] = e->rcpts[i].addr;
	struct qindex_msg m = { .id = e->id, .arrival = e->arrival,
				.direction = e->flags & ENVELOPE_F_OUTBOUND ? "outbound" : "inbound",
				.client = e->client, .sender = e->sender, .subject = subject,
				.score = keeper_score_of(e->verdict), .verdict = e->verdict, .rcpts = rcpts,
				.n_rcpts = n };
	bool ok = qindex_add(k->index, &m);
	free(rcpts);
	return ok;
}

void keeper_add(struct keeper *k, const struct envelope *e, int fd)
{
	/* Not indexed (database trouble, logged): the file is held all the
	 * same and the next start indexes it. */
	if (k->index)
		index_message(k, e, fd);
}

/* ---- Reconciliation at start: the directory is the truth. ---- */

struct id_set {
	char (*ids)[QUEUE_ID_LEN + 1];
	size_t n;
};

static void id_set_add(const char *id, void *arg)
{
	struct id_set *s = arg;
	s->ids = xreallocarray(s->ids, s->n + 1, sizeof(*s->ids));
	snprintf(s->ids[s->n++], QUEUE_ID_LEN + 1, "%s", id);
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void id_set_sort(struct id_set *s)
{
	if (s->n > 1)  /* an empty set has no array: qsort must not see NULL */
		qsort(s->ids, s->n, sizeof(*s->ids), id_cmp);
}

static bool id_set_has(const struct id_set *s, const char *id)
{
	return s->n && bsearch(id, s->ids, s->n, sizeof(*s->ids), id_cmp) != NULL;
}

/* Index the file id from quarantine/. False if it does not decode (it
 * stays, unlisted, for the administrator: logged). */
static bool index_file(struct keeper *k, const char *id)
{
	int fd = spool_open_quarantined(k->spool, id, false);
	struct envelope e;
	bool ok = fd >= 0 && envelope_read(fd, &e);
	if (ok) {
		snprintf(e.id, sizeof(e.id), "%s", id);
		ok = index_message(k, &e, fd);
		envelope_clear(&e);
	} else {
		log_event(LOG_WARNING, "quarantine_unreadable", "queue_id", id, NULL);
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

static void reconcile(struct keeper *k)
{
	struct id_set files = { 0 }, rows = { 0 };
	spool_each_quarantined(k->spool, id_set_add, &files);
	if (!qindex_each_id(k->index, id_set_add, &rows)) {
		free(files.ids);
		return;
	}
	id_set_sort(&files);
	id_set_sort(&rows);
	size_t added = 0, removed = 0;
	bool batch = qindex_batch_begin(k->index);
	for (size_t i = 0; i < files.n; i++)
		if (!id_set_has(&rows, files.ids[i]) && index_file(k, files.ids[i]))
			added++;
	for (size_t i = 0; i < rows.n; i++)
		if (!id_set_has(&files, rows.ids[i]) && qindex_remove(k->index, rows.ids[i]))
			removed++;
	if (batch)
		qindex_batch_end(k->index);
	log_event(LOG_INFO, "quarantine_index_synced", "held", log_u64(files.n), "added", log_u64(added), "removed",
		  log_u64(removed), NULL);
	free(files.ids);
	free(rows.ids);
}

struct keeper *keeper_open(struct spool *s, struct scheduler *sch)
{
	struct keeper *k = xcalloc(1, sizeof(*k));
	k->spool = s;
	k->sch = sch;
	k->index = qindex_open(QUARANTINE_INDEX_PATH);
	if (k->index)
		reconcile(k);
	else
		log_event(LOG_ERR, "quarantine_error", "msg", "no index: quarantine list, release and digest will fail",
			  NULL);
	return k;
}

void keeper_close(struct keeper *k)
{
	if (!k)
		return;
	qindex_close(k->index);
	free(k->alarms);
	free(k);
}

/* ---- Expiry and the scheduled digest. ---- */

struct expire_ctx {
	struct keeper *k;
	uint64_t now;
};

static void expire_one(const char *id, void *arg)
{
	struct expire_ctx *c = arg;
	if (spool_delete_quarantined(c->k->spool, id) < 0) {
		log_event(LOG_ERR, "spool_error", "op", "expire", "queue_id", id, NULL);
		return;
	}
	qindex_remove(c->k->index, id);
	qindex_log_action(c->k->index, c->now, id, "expire", "expiry", NULL, NULL);
	log_event(LOG_INFO, "quarantine_expired", "queue_id", id, "by", "expiry", NULL);
}

/* Every quarter of the expiry, at most every 10 minutes. */
static void maybe_expire(struct keeper *k, unsigned expiry)
{
	unsigned every = expiry / 4 < 1 ? 1 : expiry / 4 > 600 ? 600 : expiry / 4;
	if (!expiry || ++k->expiry_ticks < every)
		return;
	k->expiry_ticks = 0;
	struct expire_ctx c = { k, (uint64_t)time(NULL) };
	if (c.now >= expiry)
		qindex_each_older(k->index, c.now - expiry, EXPIRE_BATCH, expire_one, &c);
}

static void maybe_digest(struct keeper *k, const struct config *c)
{
	const struct queue_config *q = c->queue;
	uint64_t now = (uint64_t)time(NULL), last = qindex_last_digest(k->index);
	if (!last) {  /* the first period starts now */
		qindex_set_last_digest(k->index, now);
		return;
	}
	if (!digest_due((time_t)now, (time_t)last, digest_time_of_day(q->quarantine_digest_at),
			q->quarantine_digest_interval))
		return;
	struct keeper_actor who = { .user = "schedule" };
	keeper_digest(k, c, &who);
}

void keeper_tick(struct keeper *k, const struct config *c)
{
	if (!k->index)
		return;
	maybe_expire(k, c->queue->quarantine_expiry);
	if (c->queue->quarantine_digest)
		maybe_digest(k, c);
}

/* ---- Control commands. ---- */

static void actor_of(uid_t uid, struct keeper_actor *who)
{
	struct passwd pw, *found = NULL;
	char buf[1024];
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found)
		snprintf(who->user, sizeof(who->user), "%s", found->pw_name);
	else
		snprintf(who->user, sizeof(who->user), "uid:%u", (unsigned)uid);
}

/* by=NAME: a login-like name, so the log line stays one token. */
static bool operator_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    !strchr("._@+-", *s))
			return false;
	return true;
}

#define MAX_WORDS 40

static int run_list(struct keeper *k, char **words, size_t n, FILE *out)
{
	struct qindex_filter f;
	bool json;
	if (!listing_decode(words, n, &f, &json)) {
		fputs("error: list: unknown filter\n", out);
		return -1;
	}
	return listing_write(k->index, &f, json, out) ? 0 : (fputs("error: index unreadable\n", out), -1);
}

int keeper_command(struct keeper *k, const struct config *c, char *args, uid_t uid, FILE *out)
{
	char *words[MAX_WORDS];
	size_t n = 0;
	for (char *save = NULL, *w = strtok_r(args, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (n == MAX_WORDS) {
			fputs("error: too many words\n", out);
			return -1;
		}
		words[n++] = w;
	}
	if (!k->index) {
		fputs("error: the quarantine index could not be opened (see the queue's log)\n", out);
		return -1;
	}
	if (n >= 1 && strcmp(words[0], "list") == 0)
		return run_list(k, words + 1, n - 1, out);
	struct keeper_actor who = { .operator = NULL };
	actor_of(uid, &who);
	char *to[MAX_WORDS];
	size_t n_to = 0;
	for (size_t i = 1; i < n; i++) {
		if (strncmp(words[i], "by=", 3) == 0 && operator_ok(words[i] + 3) && !who.operator)
			who.operator = words[i] + 3;
		else if (strncmp(words[i], "to=", 3) == 0 && words[i][3])
			to[n_to++] = words[i] + 3;
		else if (i != 1 || !queue_id_valid(words[i]))
			goto usage;
	}
	bool has_id = n >= 2 && queue_id_valid(words[1]);
	if (n >= 1 && strcmp(words[0], "release") == 0 && has_id)
		return keeper_release(k, words[1], to, n_to, &who, out);
	if (n >= 1 && strcmp(words[0], "delete") == 0 && has_id && !n_to)
		return keeper_delete(k, words[1], &who, out);
	if (n >= 1 && strcmp(words[0], "digest") == 0 && !has_id && !n_to) {
		long sent = keeper_digest(k, c, &who);
		if (sent < 0)
			return fputs("error: digest failed (see the queue's log)\n", out), -1;
		fprintf(out, "digest: %ld mail(s) queued\n", sent);
		return 0;
	}
usage:
	fputs("error: quarantine commands: list [json] [from=S] [to=S] [since=T] [min=N], release ID [to=ADDR]... "
	      "[by=NAME], delete ID [by=NAME], digest [by=NAME]\n", out);
	return -1;
}
