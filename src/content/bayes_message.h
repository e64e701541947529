/*
 * The tokens of one message for Bayes (content/bayes.h): the same for
 * learning (`mailwarden learn`) and for classifying (the scanner's
 * "bayes" check) — the decoded Subject, each decoded text part's words
 * (HTML tags and all: markup tells too), the host of each URL, and the
 * words of the header fields that tell who sent it with what (From,
 * X-Mailer, Content-Type, ...; not Received, Date or X-Spam-*).
 */
#ifndef MW_CONTENT_BAYES_MESSAGE_H
#define MW_CONTENT_BAYES_MESSAGE_H

#include <stddef.h>

struct bayes_tokens;
struct mime_message;
struct uri_list;

/* m: the message's MIME view; uris: the URLs of its text parts
 * (uri_extract_message). */
void bayes_message_tokens(const char *msg, size_t len, const struct mime_message *m, const struct uri_list *uris,
			  struct bayes_tokens *out);

/* The identity a message is learnt under (bayes_learn's id): its
 * Message-ID, else a digest of its bytes, in out (cap bytes). */
void bayes_message_identity(const char *msg, size_t len, char *out, size_t cap);

#endif
