/*
 * SpamAssassin's DKIM plugin's `eval:` tests (issue 11), answered from
 * the verdict our own DKIM verification gave (content/dkimlib.h, keys
 * fetched before the checks by content/authdns.h): nothing is looked up
 * here. Without a verdict (`mailwarden scan`, or a gateway whose dkim
 * and dmarc checks are off) every test is false: SpamAssassin without
 * DNS (-L) does not even look for signatures then, so DKIM_SIGNED stays
 * quiet there too.
 *
 * Each test may name signing domains: "example.com" that domain alone,
 * ".example.com" or "*.example.com" it and its subdomains. The signing
 * domain is the signature's d=.
 */
#include "content/rules_impl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/dkimlib.h"

/* Is domain d one of the domains listed (any, when none are)? */
static bool domain_listed(const char *d, const char *const *list, size_t n)
{
	if (n == 0)
		return true;
	size_t dlen = strlen(d);
	for (size_t i = 0; i < n; i++) {
		const char *want = list[i];
		bool subdomains = want[0] == '.' || (want[0] == '*' && want[1] == '.');
		if (!subdomains) {
			if (strcasecmp(d, want) == 0)
				return true;
			continue;
		}
		want += want[0] == '*' ? 2 : 1;
		size_t wlen = strlen(want);
		if (strcasecmp(d, want) == 0 ||
		    (dlen > wlen && d[dlen - wlen - 1] == '.' && strcasecmp(d + dlen - wlen, want) == 0))
			return true;
	}
	return false;
}

/* A signature by a listed domain that verifies (valid) or is there at all;
 * of the From domain only, when author is set. */
static bool signed_by(const struct rules_input *in, bool valid, bool author, const char *const *a, size_t n)
{
	const struct dkimlib_verdict *v = in->dkim;
	for (size_t i = 0; v && i < v->n; i++) {
		const struct dkimlib_signature *s = &v->sig[i];
		if ((valid && s->result != DKIMLIB_PASS) || !s->domain[0])
			continue;
		if (author && (!in->dkim_from_domain || strcasecmp(s->domain, in->dkim_from_domain) != 0))
			continue;
		if (domain_listed(s->domain, a, n))
			return true;
	}
	return false;
}

/* check_dkim_signed([domain...]): a DKIM-Signature field (one whose d=
 * names a listed domain). */
static unsigned dkim_signed(const struct rules_input *in, const char *const *a, size_t n)
{
	if (!in->dkim || !in->dkim->n)
		return 0;
	return n == 0 || signed_by(in, false, false, a, n);
}

/* check_dkim_valid([domain...]): a signature that verifies. */
static unsigned dkim_valid(const struct rules_input *in, const char *const *a, size_t n)
{
	return signed_by(in, true, false, a, n);
}

/* check_dkim_valid_author_sig([domain...]): a signature of the From
 * address's domain that verifies. */
static unsigned dkim_valid_author(const struct rules_input *in, const char *const *a, size_t n)
{
	return signed_by(in, true, true, a, n);
}

/* check_dkim_valid_envelopefrom(): a signature of the envelope sender's
 * domain that verifies. */
static unsigned dkim_valid_envelope(const struct rules_input *in, const char *const *a, size_t n)
{
	if (!in->dkim)
		return 0;
	char *env = rules_envelope_from(in);
	const char *at = env ? strrchr(env, '@') : NULL;
	const char *domain[1] = { at && at[1] ? at + 1 : NULL };
	unsigned hit = domain[0] && signed_by(in, true, false, domain, 1);
	free(env);
	return hit;
}

/* check_dkim_dependable(): the signatures were all read and verified by
 * us (a message too large to verify would not be). */
static unsigned dkim_dependable(const struct rules_input *in, const char *const *a, size_t n)
{
	return in->dkim != NULL;
}

const struct rules_eval rules_eval_dkim[] = {
	{ "check_dkim_signed", 0, EVAL_ARGS_MAX, dkim_signed, NULL },
	{ "check_dkim_valid", 0, EVAL_ARGS_MAX, dkim_valid, NULL },
	{ "check_dkim_verified", 0, EVAL_ARGS_MAX, dkim_valid, NULL },  /* the old name */
	{ "check_dkim_valid_author_sig", 0, EVAL_ARGS_MAX, dkim_valid_author, NULL },
	{ "check_dkim_valid_envelopefrom", 0, 0, dkim_valid_envelope, NULL },
	{ "check_dkim_dependable", 0, 0, dkim_dependable, NULL },
	{ NULL, 0, 0, NULL, NULL },
};
