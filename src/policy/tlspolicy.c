#include "policy/tlspolicy.h"

#include <string.h>
#include <strings.h>

#include "config/config.h"

static bool suffix_match(const char *domain, size_t len, const char *suffix, size_t slen)
{
	return len > slen && domain[len - slen - 1] == '.' && strncasecmp(domain + len - slen, suffix, slen) == 0;
}

struct tls_requirement tls_policy_lookup(const struct config *c, const char *domain, size_t len)
{
	const struct tls_policy_cfg *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < c->n_tls_policy; i++) {
		const struct tls_policy_cfg *p = &c->tls_policy[i];
		size_t plen = strlen(p->domain);
		if (!p->subdomains && plen == len && strncasecmp(domain, p->domain, len) == 0) {
			best = p;
			break;
		}
		if (p->subdomains && suffix_match(domain, len, p->domain, plen) && plen >= best_len) {
			best = p;
			best_len = plen;
		}
	}
	struct tls_requirement r = { c->outbound_tls.level, c->outbound_tls.min_version, best != NULL };
	if (best) {
		r.level = best->level;
		if (best->min_version)
			r.min_version = best->min_version;
	}
	return r;
}

struct tls_requirement tls_policy_stricter(struct tls_requirement a, struct tls_requirement b)
{
	return (struct tls_requirement){ a.level > b.level ? a.level : b.level,
					 a.min_version > b.min_version ? a.min_version : b.min_version,
					 a.configured || b.configured };
}
