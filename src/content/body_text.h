/*
 * The rendered body that SpamAssassin-format body rules match (issue 11;
 * content/rules.h): the Subject, then each text part's paragraphs (split
 * at empty lines, lines joined by a space, white space at either end
 * dropped), HTML with its tags taken out and a few entities put in.
 *
 * Bounded, because every body rule runs over every paragraph (a message of
 * empty-line-separated letters would otherwise cost rules x millions of
 * regex calls): a part gives at most BODY_TEXT_PART_MAX bytes of text
 * (SpamAssassin's body_part_scan_size), a message at most BODY_TEXT_MAX
 * bytes in BODY_TEXT_PARAGRAPHS_MAX paragraphs; the rest is not rendered
 * and truncated is set. Runs on the scanner's worker threads: no shared
 * state.
 */
#ifndef MW_CONTENT_BODY_TEXT_H
#define MW_CONTENT_BODY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define BODY_TEXT_PART_MAX 50000
#define BODY_TEXT_MAX (1u << 20)
#define BODY_TEXT_PARAGRAPHS_MAX 2000

struct body_text {
	char **s;        /* s[i][0..len[i]) may hold NUL bytes; s[i][len[i]] is NUL */
	size_t *len;
	size_t n, cap;
	size_t bytes;    /* sum of len[] */
	bool truncated;  /* a limit left text out */
};

/* Add s[0..len) as one paragraph (the Subject), within the limits. */
void body_text_add(struct body_text *t, const char *s, size_t len);
/* Add a text part's paragraphs; html: take its tags out first. */
void body_text_add_part(struct body_text *t, const char *s, size_t len, bool html);
void body_text_free(struct body_text *t);

#endif
