/*
 * See bayes_store.h.
 */
#include "master/bayes_store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "content/bayes.h"
#include "ipc/ctl.h"
#include "master/child.h"
#include "scan/policy.h"
#include "util/alloc.h"
#include "util/filestamp.h"
#include "util/log.h"

enum { LEARNT_NOTHING_NEW = 0, LEARNT_NEW = 10, LEARN_FAILED = 11 };

struct sample {
	bool spam;
	char *id;
	struct bayes_tokens tokens;
};

struct bayes_store {
	struct sample *samples;
	size_t n;
	unsigned long dropped;        /* beyond BAYES_BATCH_MAX since the last batch */
	pid_t learner;                /* 0: none at work */
	time_t last_batch;
	struct file_stamp seen;       /* what the running scanner read */
	struct file_stamp changed;    /* a change seen at the last poll, waiting to settle */
	bool changing;
};

static void store_path(const struct config *c, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", c->state_dir, BAYES_DB_NAME);
}

struct bayes_store *bayes_store_new(const struct config *c)
{
	struct bayes_store *bs = xcalloc(1, sizeof(struct bayes_store));
	char path[4200];
	store_path(c, path, sizeof(path));
	bs->seen = file_stamp_take(path);
	return bs;
}

static void samples_clear(struct bayes_store *bs)
{
	for (size_t i = 0; i < bs->n; i++) {
		free(bs->samples[i].id);
		bayes_tokens_free(&bs->samples[i].tokens);
	}
	bs->n = 0;
}

void bayes_store_free(struct bayes_store *bs)
{
	if (!bs)
		return;
	samples_clear(bs);
	free(bs->samples);
	free(bs);
}

bool bayes_store_sample(struct bayes_store *bs, struct ipc_msg *m)
{
	static uint64_t h[CTL_SAMPLE_TOKENS_MAX];  /* the master is one thread */
	char id[CTL_SAMPLE_ID_MAX];
	bool spam;
	size_t n;
	if (!ctl_get_bayes_sample(m, -1, &spam, id, sizeof(id), h, BAYES_TOKENS_MAX, &n))
		return false;
	if (bs->n >= BAYES_BATCH_MAX) {
		bs->dropped++;
		return true;
	}
	if (!bs->samples)
		bs->samples = xcalloc(BAYES_BATCH_MAX, sizeof(*bs->samples));
	struct sample *s = &bs->samples[bs->n++];
	s->spam = spam;
	s->id = xstrdup(id);
	s->tokens.h = xmalloc((n ? n : 1) * sizeof(uint64_t));
	memcpy(s->tokens.h, h, n * sizeof(uint64_t));
	s->tokens.n = n;
	return true;
}

/* --- the learner ----------------------------------------------------------- */

/* In the forked learner: every sample, each in its own transaction. */
static int learn_batch(const struct bayes_store *bs, const char *path)
{
	char why[512];
	struct bayes_db *db = bayes_db_open(path, why, sizeof(why));
	if (!db) {
		log_event(LOG_ERR, "bayes_autolearn", "msg", why, NULL);
		return LEARN_FAILED;
	}
	bool failed = false, any = false;
	for (size_t i = 0; i < bs->n && !failed; i++) {
		bool changed = false;
		failed = !bayes_learn(db, bs->samples[i].id, &bs->samples[i].tokens, bs->samples[i].spam, false,
				      &changed);
		any |= changed;
	}
	bayes_db_close(db);
	return failed ? LEARN_FAILED : any ? LEARNT_NEW : LEARNT_NOTHING_NEW;
}

static void start_learner(struct bayes_store *bs, const struct config *c)
{
	size_t spam = 0;
	for (size_t i = 0; i < bs->n; i++)
		spam += bs->samples[i].spam;
	log_event(LOG_INFO, "bayes_autolearn", "samples", log_u64(bs->n), "spam", log_u64(spam), "ham",
		  log_u64(bs->n - spam), "dropped", log_u64(bs->dropped), NULL);
	pid_t pid = child_fork_task("bayes_learner");
	if (pid == 0) {
		char path[4200];
		store_path(c, path, sizeof(path));
		_exit(learn_batch(bs, path));  /* our copy of the samples (fork) */
	}
	bs->learner = pid > 0 ? pid : 0;
	samples_clear(bs);  /* handed over (or, if the fork failed, given up: logged) */
	bs->dropped = 0;
}

bool bayes_store_reaped(struct bayes_store *bs, pid_t pid, int status)
{
	if (pid <= 0 || pid != bs->learner)
		return false;
	bs->learner = 0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == LEARNT_NEW || code == LEARNT_NOTHING_NEW)
		log_event(LOG_INFO, "bayes_learnt", "pid", log_u64((unsigned long long)pid), "changed",
			  code == LEARNT_NEW ? "yes" : "no", NULL);
	else
		log_event(LOG_ERR, "bayes_learnt", "pid", log_u64((unsigned long long)pid), "status", "failed", NULL);
	return true;
}

void bayes_store_stop(struct bayes_store *bs)
{
	if (bs->learner > 0)
		kill(bs->learner, SIGTERM);
}

/* --- the watch ------------------------------------------------------------- */

/* True once a change has stayed put for one poll (a `mailwarden learn`
 * over a big mbox commits many times) and no learner is still writing. */
static bool store_settled(struct bayes_store *bs, const struct config *c)
{
	char path[4200];
	store_path(c, path, sizeof(path));
	struct file_stamp now = file_stamp_take(path);
	if (file_stamp_same(&now, &bs->seen)) {
		bs->changing = false;
		return false;
	}
	if (!bs->changing || !file_stamp_same(&now, &bs->changed) || bs->learner) {
		bs->changing = true;
		bs->changed = now;
		return false;
	}
	bs->seen = now;
	bs->changing = false;
	return true;
}

bool bayes_store_poll(struct bayes_store *bs, const struct config *c, time_t now)
{
	const struct scan_autolearn *al = c->scan ? &c->scan->autolearn : NULL;
	if (!bs->last_batch)
		bs->last_batch = now;
	/* dropped samples imply a full batch: bs->n says whether any wait */
	if (al && al->on && bs->n && !bs->learner && now - bs->last_batch >= (time_t)al->interval) {
		bs->last_batch = now;
		start_learner(bs, c);
	}
	bool settled = store_settled(bs, c);
	if (settled)
		log_event(LOG_INFO, "bayes_changed", "msg", "the store changed: a new scanner reads it", NULL);
	return settled;
}
