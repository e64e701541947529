/*
 * The text a header rule matches (issue 11): the values of its field,
 * unfolded, per its mode (decoded, raw, first address), made at most once
 * per message and (field, mode). Debian's set has some 150 rules on
 * Subject, 90 on From, 70 on X-Mailer; before this cache each rule that
 * PCRE2 runs alone (and each Hyperscan header database) looked the field
 * up, unfolded it and decoded its RFC 2047 words anew. Only for
 * content/rules*.c; one struct header_texts per rules_match() call (the
 * scanner's worker threads each have their own).
 */
#ifndef MW_CONTENT_RULES_HEADER_TEXT_H
#define MW_CONTENT_RULES_HEADER_TEXT_H

#include <stddef.h>

#include "content/rules_impl.h"

/* A header section's fields, found once (not once per rule: with
 * hundreds of rules, a 25 MB header section would be scanned hundreds of
 * times). */
struct header_field {
	size_t start, nlen, colon, end;  /* hdr offsets: name at start, ':' at colon, next field at end */
};

struct header_index {
	const char *hdr;
	struct header_field *f;
	size_t n;
};

/* The fields of hdr[0..len) into x (header_index_free() frees them). */
void header_index_build(struct header_index *x, const char *hdr, size_t len);
void header_index_free(struct header_index *x);

/* The text rule r matches in the header section x indexes, per its mode
 * (caller frees); NULL: the field is absent. in gives the pseudo-headers
 * (EnvelopeFrom, X-Spam-Relays-*). Not cached: for a MIME entity's own
 * header section (mimeheader rules). */
char *header_text_make(const struct rule *r, const struct header_index *x, const struct rules_input *in);

struct header_text_slot;

/* The message's header section, its index and the texts made so far. */
struct header_texts {
	const struct rules_input *in;
	struct header_index fields;
	struct header_text_slot *slots;  /* open addressing, cap a power of two */
	size_t used, cap;
};

void header_texts_init(struct header_texts *t, const struct rules_input *in);
/* header_text_make(r, &t->fields, t->in), made on the first call for r's
 * field and mode and kept until header_texts_free(); *len is its strlen
 * (what the rules match: a NUL in a value ends it, as it always did).
 * NULL: absent. */
const char *header_texts_get(struct header_texts *t, const struct rule *r, size_t *len);
void header_texts_free(struct header_texts *t);

#endif
