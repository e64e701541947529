/*
 * MTA-STS (RFC 8461, TLS-8), the pure part: the "_mta-sts" TXT record
 * (3.1), the policy file (3.2) and MX host matching (3.4). No I/O; runs
 * in the queue process (and in its fetch threads: every function here is
 * reentrant).
 */
#ifndef MW_POLICY_MTASTS_H
#define MW_POLICY_MTASTS_H

#include <stdbool.h>
#include <stddef.h>

#define MTASTS_ID_MAX 32          /* sts-id = 1*32(ALPHA / DIGIT) */
#define MTASTS_MX_MAX 32          /* mx patterns kept per policy */
#define MTASTS_MAX_AGE_MAX 31557600u  /* one year: the RFC's ceiling */
#define MTASTS_POLICY_SIZE_MAX (64u * 1024)  /* a policy file larger is refused */

enum mtasts_mode { MTASTS_NONE, MTASTS_TESTING, MTASTS_ENFORCE };

struct mtasts_policy {
	enum mtasts_mode mode;
	unsigned max_age;                     /* seconds, at most MTASTS_MAX_AGE_MAX */
	char mx[MTASTS_MX_MAX][256];          /* lower case; "*.example.com" or a host */
	size_t n_mx;
};

const char *mtasts_mode_name(enum mtasts_mode m);

/* The id of one TXT record "v=STSv1; id=...;" (RFC 8461 3.1) into
 * id[MTASTS_ID_MAX + 1]. False when the record is not a valid STSv1
 * record (unknown extension fields are allowed and ignored). */
bool mtasts_txt_parse(const char *txt, size_t len, char *id);

/* Of all TXT strings of "_mta-sts.<domain>": the records that begin with
 * "v=STSv1;" must be exactly one, and valid (3.1); else false (the domain
 * has no policy). */
bool mtasts_txt_pick(char *const *texts, size_t n, char *id);

/* Parse a policy file (3.2): lines "key: value" ending in CRLF or LF,
 * version STSv1 and a known mode required, max_age 1*10 digits (larger
 * than a year: a year), at least one mx unless the mode is none; unknown
 * keys ignored, the first of a repeated key counts (mx: all of them, up
 * to MTASTS_MX_MAX). On error false and a reason in why. */
bool mtasts_policy_parse(const char *text, size_t len, struct mtasts_policy *out, char *why, size_t whylen);

/* Does MX host name host (a trailing dot is ignored) match one of the
 * policy's patterns (3.4)? "*.example.com" matches exactly one label in
 * place of the "*": mail.example.com, not example.com nor
 * a.b.example.com. Case-insensitive. */
bool mtasts_mx_match(const struct mtasts_policy *p, const char *host);

#endif
