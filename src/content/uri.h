/*
 * URLs in a message's text (issue 11): what SpamAssassin's `uri` rules,
 * and later the URL block lists, look at. Found in plain text (scheme://,
 * www., mailto:) and in HTML attributes (href, src, action, background);
 * a "www." name gets "http://" in front; a URL that carries another one in
 * its query (a redirector: ...?url=https%3A%2F%2Fevil.example/...) yields
 * that one too, percent-decoded. Bounded: at most URI_MAX URLs of at most
 * URI_LEN_MAX bytes each per list; duplicates are dropped.
 */
#ifndef MW_CONTENT_URI_H
#define MW_CONTENT_URI_H

#include <stdbool.h>
#include <stddef.h>

#define URI_MAX 1000
#define URI_LEN_MAX 2048

struct uri_list {
	char **uris;
	size_t n;
	bool truncated;      /* more than URI_MAX were found */
	size_t *slots;       /* private: a hash of uris[] (index + 1), so a
			      * repeated URL costs one look-up, not URI_MAX */
};

/* Add the URLs in text[0..len) to out; html: it is an HTML part. */
void uri_extract(const char *text, size_t len, bool html, struct uri_list *out);
/* The URLs of every text part of a message's MIME view. */
struct mime_message;
void uri_extract_message(const struct mime_message *m, struct uri_list *out);
void uri_list_free(struct uri_list *l);

#endif
