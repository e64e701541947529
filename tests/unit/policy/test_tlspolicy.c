/* Outbound TLS policy per destination domain (TLS-5, TLS-7). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "policy/tlspolicy.h"

static struct tls_requirement lookup(const struct config *c, const char *d)
{
	return tls_policy_lookup(c, d, strlen(d));
}

Test(tlspolicy, exact_subdomain_and_default)
{
	struct tls_policy_cfg p[] = {
		{ "bank.example", false, TLS_LEVEL_VERIFY, CONFIG_TLS_1_3 },
		{ "partner.example", true, TLS_LEVEL_ENCRYPT, 0 },
		{ "mx.partner.example", true, TLS_LEVEL_NONE, 0 },
	};
	struct config c = { 0 };
	c.outbound_tls.level = TLS_LEVEL_MAY;
	c.outbound_tls.min_version = CONFIG_TLS_1_2;
	c.tls_policy = p;
	c.n_tls_policy = 3;

	struct tls_requirement r = lookup(&c, "BANK.example");
	cr_assert_eq(r.level, TLS_LEVEL_VERIFY);
	cr_assert_eq(r.min_version, CONFIG_TLS_1_3);
	cr_assert(r.configured, "an entry matched: MTA-STS does not apply (TLS-8)");
	r = lookup(&c, "sub.bank.example");          /* not a ".bank.example" entry */
	cr_assert_eq(r.level, TLS_LEVEL_MAY);
	cr_assert_not(r.configured, "outbound_tls.level, no entry");
	r = lookup(&c, "a.partner.example");
	cr_assert_eq(r.level, TLS_LEVEL_ENCRYPT);
	cr_assert_eq(r.min_version, CONFIG_TLS_1_2);  /* the default minimum */
	r = lookup(&c, "partner.example");            /* ".domain" is the subdomains only */
	cr_assert_eq(r.level, TLS_LEVEL_MAY);
	r = lookup(&c, "x.mx.partner.example");       /* the longest suffix wins */
	cr_assert_eq(r.level, TLS_LEVEL_NONE);
	r = lookup(&c, "evilpartner.example");
	cr_assert_eq(r.level, TLS_LEVEL_MAY);
}

Test(tlspolicy, stricter_of_two)
{
	struct tls_requirement a = { TLS_LEVEL_ENCRYPT, CONFIG_TLS_1_2, false }, b = { TLS_LEVEL_MAY, CONFIG_TLS_1_3, true };
	struct tls_requirement r = tls_policy_stricter(a, b);
	cr_assert_eq(r.level, TLS_LEVEL_ENCRYPT);
	cr_assert(r.configured);
	cr_assert_eq(r.min_version, CONFIG_TLS_1_3);
}
