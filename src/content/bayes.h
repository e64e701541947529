/*
 * Bayes (issue 11): a trainable token classifier, as SpamAssassin and
 * bogofilter do it — Robinson's per-token probability with Fisher's
 * chi-square combining over the most telling tokens of a message. Tokens
 * come from the decoded text, the Subject and the URL hosts (bayes_tokens).
 * Tokens are kept as 64-bit hashes, as SpamAssassin keeps 40-bit ones.
 *
 * The store is SQLite (state_dir/bayes.db, WAL), written by `mailwarden
 * learn`; the scanner reads it whole into a sorted array when it starts
 * (before its chroot), so classifying is a binary search per token with
 * no I/O; a reload (SIGHUP) picks up new training.
 */
#ifndef MW_CONTENT_BAYES_H
#define MW_CONTENT_BAYES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BAYES_TOKENS_MAX 3000   /* distinct tokens taken from one message */
#define BAYES_DB_NAME "bayes.db"  /* in state_dir */

struct bayes_tokens {
	uint64_t *h;
	size_t n;
};

/* The message's tokens, distinct, added to out (empty, { 0 }, or holding
 * the header tokens already: what comes first is kept when a long message
 * reaches BAYES_TOKENS_MAX). text: the rendered paragraphs; subject may
 * be NULL; hosts: URL host names. */
void bayes_tokenize(const char *const *text, const size_t *len, size_t n_text, const char *subject,
		    const char *const *hosts, size_t n_hosts, struct bayes_tokens *out);
/* Add the words of one header field's value, marked with its name so
 * that "example" in From: and in the text are different tokens. */
void bayes_tokenize_header(const char *name, const char *value, struct bayes_tokens *t);
void bayes_tokens_free(struct bayes_tokens *t);

/* --- the store (learn) ------------------------------------------------------- */

struct bayes_db;
/* Open (create) path for learning. NULL with why on failure. */
struct bayes_db *bayes_db_open(const char *path, char *why, size_t whylen);
void bayes_db_close(struct bayes_db *db);
/* Learn a message as spam or ham (id: its Message-ID or a digest). A
 * message learnt before in the other class moves; in the same class, it
 * is not counted twice. forget: undo what was learnt. Returns false on a
 * database error; *changed says whether anything changed. */
bool bayes_learn(struct bayes_db *db, const char *id, const struct bayes_tokens *t, bool spam, bool forget,
		 bool *changed);
/* Messages learnt so far. */
bool bayes_db_counts(struct bayes_db *db, unsigned long *spam, unsigned long *ham);

/* --- classifying (the scanner) ------------------------------------------------- */

struct bayes_model;
/* Read the whole store at path (read-only). NULL if it does not exist
 * (no training: no Bayes result) or on error (why set). */
struct bayes_model *bayes_model_load(const char *path, char *why, size_t whylen);
void bayes_model_free(struct bayes_model *m);
void bayes_model_counts(const struct bayes_model *m, unsigned long *spam, unsigned long *ham);
/* Probability that the message is spam, 0..1, from its tokens. */
double bayes_classify(const struct bayes_model *m, const struct bayes_tokens *t);
/* SpamAssassin's symbol for a probability: BAYES_00 ... BAYES_999. */
const char *bayes_symbol(double p);

#endif
