/*
 * Bayes (content/bayes.h): the probability that the message is spam, as
 * learnt with `mailwarden learn`, reported as SpamAssassin's symbols
 * BAYES_00 ... BAYES_99 and BAYES_999 with its scores for a setup with
 * Bayes and without network tests (its score set 2), so that rule sets
 * written for SpamAssassin keep their balance. No result until the store
 * holds scan.bayes_min_learned spam and as many ham messages (200 each by
 * default, as SpamAssassin): a barely trained filter guesses. Policy key
 * scan.<direction>.checks.bayes (score uses these points, not the
 * policy's).
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "content/bayes.h"
#include "content/bayes_message.h"
#include "content/check.h"
#include "content/job.h"
#include "content/mime.h"
#include "scan/policy.h"

/* SpamAssassin 4.0's 50_scores.cf, score set 2, in hundredths. */
static const struct { const char *name; int points; } scores[] = {
	{ "BAYES_00", -150 }, { "BAYES_05", -30 }, { "BAYES_20", 0 },  { "BAYES_40", 0 },  { "BAYES_50", 200 },
	{ "BAYES_60", 250 },  { "BAYES_80", 270 }, { "BAYES_95", 320 }, { "BAYES_99", 380 }, { "BAYES_999", 20 },
};

static int points_of(const char *name)
{
	for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++)
		if (strcmp(scores[i].name, name) == 0)
			return scores[i].points;
	return 0;
}

static void hit(struct content_job *job, const char *name, double p)
{
	char detail[64];
	snprintf(detail, sizeof(detail), "Bayes spam probability %.4f", p);
	content_hit_points(job, name, points_of(name), detail);
}

static void classify(struct content_job *job, const struct bayes_tokens *t)
{
	double p = bayes_classify(job->bayes, t);
	const char *name = bayes_symbol(p);
	if (strcmp(name, "BAYES_999") == 0)
		hit(job, "BAYES_99", p);  /* SpamAssassin: both ranges hit */
	hit(job, name, p);
}

/* Auto-learning keeps the tokens for the scanner, which sends them to
 * the master once every check has scored (bayes_autolearn.h); it also
 * learns while Bayes is too young to answer, which is how it grows up. */
static void run(struct content_job *job, const char *msg, size_t len)
{
	const struct scan_config *sc = content_job_config(job)->scan;
	bool learn = sc && sc->autolearn.on;
	bool ready = content_job_bayes_ready(job);
	if (!ready && !learn)
		return;
	struct bayes_tokens t;
	bayes_message_tokens(msg, len, content_job_mime(job, msg, len), content_job_uris(job, msg, len), &t);
	if (ready)
		classify(job, &t);
	if (!learn) {
		bayes_tokens_free(&t);
		return;
	}
	bayes_tokens_free(&job->learn_tokens);
	job->learn_tokens = t;
	bayes_message_identity(msg, len, job->learn_id, sizeof(job->learn_id));
}

const struct content_check content_check_bayes = {
	.name = "bayes",
	.default_reply = "550 5.7.1 Message refused: classified as spam",
	.run = run,
};
