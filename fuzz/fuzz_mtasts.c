/*
 * libFuzzer target: MTA-STS (RFC 8461; src/policy/mtasts.c; issue 14).
 * The first byte picks the parser: the policy file as fetched over HTTPS
 * (mtasts_policy_parse(), then every mx pattern matched against host
 * names from the input), or the TXT record (mtasts_txt_parse(), and
 * mtasts_txt_pick() on the input split at NUL bytes into TXT strings).
 * Contract checks: an accepted policy has a known mode, max_age within a
 * year, at most MTASTS_MX_MAX lower-case patterns, at least one unless the
 * mode is none, each pattern matching itself; a refused one gives a
 * printable reason; an accepted TXT id is 1-32 letters and digits.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "policy/mtasts.h"

static void check_policy(const struct mtasts_policy *p, const char *text, size_t len)
{
	CHECK(p->mode == MTASTS_NONE || p->mode == MTASTS_TESTING || p->mode == MTASTS_ENFORCE);
	CHECK(p->max_age <= MTASTS_MAX_AGE_MAX);
	CHECK(p->n_mx <= MTASTS_MX_MAX && (p->n_mx > 0 || p->mode == MTASTS_NONE));
	for (size_t i = 0; i < p->n_mx; i++) {
		CHECK(memchr(p->mx[i], '\0', sizeof(p->mx[i])));
		for (const char *c = p->mx[i]; *c; c++)
			CHECK(!isupper((unsigned char)*c) && (unsigned char)*c > ' ');
		if (p->mx[i][0] != '*')
			CHECK(mtasts_mx_match(p, p->mx[i]));
	}
	char host[256];
	for (size_t i = 0; i < len && i < 4096;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = (nl ? (size_t)(nl - text) : len) - i;
		snprintf(host, sizeof(host), "%.*s", (int)(n < 255 ? n : 255), text + i);
		(void)mtasts_mx_match(p, host);
		i += n + 1;
	}
}

static void check_id(const char *id)
{
	size_t n = strlen(id);
	CHECK(n >= 1 && n <= MTASTS_ID_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(isalnum((unsigned char)id[i]));
}

static void txt(const char *text, size_t len)
{
	char id[MTASTS_ID_MAX + 1];
	if (mtasts_txt_parse(text, len, id))
		check_id(id);
	/* NUL bytes split the input into the TXT strings of one name. */
	char *texts[16];
	size_t n;
	char *copy = fuzz_split_nul(text, len, texts, 16, &n);
	if (mtasts_txt_pick(texts, n, id))
		check_id(id);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	if (data[0] & 1) {
		txt(text, len);
		return 0;
	}
	struct mtasts_policy p;
	char why[256] = "";
	if (mtasts_policy_parse(text, len, &p, why, sizeof(why)))
		check_policy(&p, text, len);
	else
		CHECK(why[0] && fuzz_printable(why));
	return 0;
}
