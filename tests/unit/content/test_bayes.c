/* Bayes (content/bayes.h; issue 11): tokens, learning with identities
 * (no double counting, moving between classes, forgetting), the Robinson-
 * Fisher probability, and SpamAssassin's symbol ranges. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/bayes.h"
#include "content/bayes_message.h"
#include "content/mime.h"
#include "content/uri.h"

static char dir[] = "/tmp/mw-bayes-XXXXXX";
static char path[128];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bayes.db", dir);
}

static void teardown(void)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	strcpy(dir, "/tmp/mw-bayes-XXXXXX");
}

TestSuite(bayes, .init = setup, .fini = teardown);

static struct bayes_tokens tokens_of(const char *text, const char *subject)
{
	const char *t[] = { text };
	size_t l[] = { strlen(text) };
	struct bayes_tokens out = { 0 };
	bayes_tokenize(t, l, 1, subject, NULL, 0, &out);
	return out;
}

static void learn(struct bayes_db *db, const char *id, const char *text, bool spam, bool expect_change)
{
	struct bayes_tokens t = tokens_of(text, NULL);
	bool changed;
	cr_assert(bayes_learn(db, id, &t, spam, false, &changed));
	cr_assert_eq(changed, expect_change, "%s", id);
	bayes_tokens_free(&t);
}

Test(bayes, tokens_are_distinct_words_any_case_and_the_subject_apart)
{
	struct bayes_tokens a = tokens_of("Cheap cheap CHEAP pills, ok", "cheap");
	cr_assert_eq(a.n, 3, "subject:cheap, cheap, pills ('ok' is too short)");
	bayes_tokens_free(&a);
}

Test(bayes, learnt_spam_and_ham_separate_new_messages)
{
	char why[256];
	struct bayes_db *db = bayes_db_open(path, why, sizeof(why));
	cr_assert_not_null(db, "%s", why);
	char id[32];
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "<s%d@x>", i);
		learn(db, id, "buy cheap pills viagra casino winner money offer", true, true);
		snprintf(id, sizeof(id), "<h%d@x>", i);
		learn(db, id, "meeting agenda project report tomorrow lunch budget", false, true);
	}
	learn(db, "<s0@x>", "buy cheap pills viagra casino winner money offer", true, false);  /* known */
	unsigned long spam, ham;
	cr_assert(bayes_db_counts(db, &spam, &ham));
	cr_assert_eq(spam, 20);
	cr_assert_eq(ham, 20);
	bayes_db_close(db);

	struct bayes_model *m = bayes_model_load(path, why, sizeof(why));
	cr_assert_not_null(m, "%s", why);
	struct bayes_tokens s = tokens_of("winner! cheap pills and casino money", NULL);
	struct bayes_tokens h = tokens_of("the project meeting agenda for tomorrow", NULL);
	double ps = bayes_classify(m, &s), ph = bayes_classify(m, &h);
	cr_assert_gt(ps, 0.99, "spam-like: %f", ps);
	cr_assert_lt(ph, 0.01, "ham-like: %f", ph);
	cr_assert_str_eq(bayes_symbol(ph), "BAYES_00");
	bayes_tokens_free(&s);
	bayes_tokens_free(&h);
	bayes_model_free(m);
}

Test(bayes, a_message_moves_between_classes_and_can_be_forgotten)
{
	char why[256];
	struct bayes_db *db = bayes_db_open(path, why, sizeof(why));
	learn(db, "<m@x>", "some words here", true, true);
	learn(db, "<m@x>", "some words here", false, true);
	unsigned long spam, ham;
	bayes_db_counts(db, &spam, &ham);
	cr_assert(spam == 0 && ham == 1);
	struct bayes_tokens t = tokens_of("some words here", NULL);
	bool changed;
	cr_assert(bayes_learn(db, "<m@x>", &t, false, true, &changed) && changed);
	bayes_db_counts(db, &spam, &ham);
	cr_assert(spam == 0 && ham == 0);
	bayes_tokens_free(&t);
	bayes_db_close(db);
}

Test(bayes, symbols_follow_spamassassins_ranges_and_no_store_is_no_model)
{
	cr_assert_str_eq(bayes_symbol(0.0), "BAYES_00");
	cr_assert_str_eq(bayes_symbol(0.5), "BAYES_50");
	cr_assert_str_eq(bayes_symbol(0.97), "BAYES_95");
	cr_assert_str_eq(bayes_symbol(0.995), "BAYES_99");
	cr_assert_str_eq(bayes_symbol(0.9995), "BAYES_999");
	char why[256];
	cr_assert_null(bayes_model_load("/nonexistent/bayes.db", why, sizeof(why)));
	cr_assert_str_eq(why, "", "no store is no error");
}

static size_t message_token_count(const char *msg)
{
	struct mime_message m;
	mime_parse(msg, strlen(msg), &mime_default_limits, &m);
	struct uri_list uris = { 0 };
	uri_extract_message(&m, &uris);
	struct bayes_tokens t;
	bayes_message_tokens(msg, strlen(msg), &m, &uris, &t);
	size_t n = t.n;
	bayes_tokens_free(&t);
	uri_list_free(&uris);
	mime_free(&m);
	return n;
}

/* Header fields that tell who sent a message with what give tokens of
 * their own ("alice" in From: is not "alice" in the text); Received and
 * our own X-Spam-* verdict give none. */
Test(bayes, telling_header_fields_give_tokens_of_their_own)
{
	const char *plain = "From: alice@example.org\r\n\r\nalice wrote this text\r\n";
	size_t base = message_token_count(plain);
	cr_assert_eq(base, 3 + 4, "From:'s alice, example, org and the text's alice, wrote, this, text");
	cr_assert_eq(message_token_count("From: alice@example.org\r\nX-Mailer: SuperMailer\r\n\r\n"
					 "alice wrote this text\r\n"), base + 1);
	cr_assert_eq(message_token_count("From: alice@example.org\r\nX-Spam-Status: Yes, score=20.0 required=5\r\n"
					 "Received: from spammer.example (unknown [192.0.2.1])\r\n\r\n"
					 "alice wrote this text\r\n"), base);
}
