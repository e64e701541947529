/*
 * Splitting an SMTP command line (RFC 5321 4.1.1): a verb of letters,
 * then optionally one space and the arguments. Pure logic, unit-tested.
 */
#ifndef MW_SMTP_PARSER_H
#define MW_SMTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_line {
	const char *verb;
	size_t verb_len;
	const char *args;   /* after the first space; trailing spaces removed */
	size_t args_len;
};

enum smtp_line_error {
	SMTP_LINE_OK,
	SMTP_LINE_EMPTY,
	SMTP_LINE_CONTROL,  /* NUL, CR, DEL or another control character (tab excepted) */
	SMTP_LINE_VERB,     /* the verb is not letters followed by a space or the end */
};

enum smtp_line_error smtp_line_split(const char *line, size_t len, struct smtp_line *out);

/* If args start with keyword (e.g. "FROM:", any case), return the rest
 * after it and any spaces following it (many clients send "FROM: <a@b>"),
 * else NULL. */
const char *smtp_args_after_keyword(const char *args, size_t len, const char *keyword, size_t *rest_len);

bool smtp_verb_is(const struct smtp_line *l, const char *verb);

/* Does the raw command line look like HTTP: a request line ("GET / ...",
 * any case, of the methods of RFC 9110 9.3 plus PATCH) or a common request
 * header field ("Host: ...", "User-Agent: ...")? No SMTP command does
 * (ALPACA, issue 18 item 3). */
bool smtp_line_is_http(const char *line, size_t len);

#endif
