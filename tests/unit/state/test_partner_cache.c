/* The in-memory partner set (issue 13, SCAN-11): pairs and their
 * domains, case-blind, the allow list for every internal address,
 * strangers stay out, growth keeps every key. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "state/partner_cache.h"

Test(partner_cache, a_pair_makes_its_address_and_domain_partners_of_that_internal_only)
{
	struct partner_cache *c = partner_cache_new(42);
	partner_cache_add(c, "alice@example.org", "bob@partner.test");
	cr_assert(partner_cache_has(c, "alice@example.org", "bob@partner.test"));
	cr_assert(partner_cache_has(c, "ALICE@example.org", "Bob@Partner.TEST"));
	cr_assert(partner_cache_has(c, "alice@example.org", "carol@partner.test"));
	cr_assert_not(partner_cache_has(c, "dave@example.org", "bob@partner.test"));
	cr_assert_not(partner_cache_has(c, "alice@example.org", "bob@stranger.test"));
	cr_assert_not(partner_cache_has(c, "alice@example.org", "bob@sub.partner.test"));
	cr_assert_not(partner_cache_has(c, "alice@example.org", "nodomain"));
	cr_assert_eq(partner_cache_keys(c), 2);
	partner_cache_free(c);
}

Test(partner_cache, allow_list_holds_for_every_internal_address)
{
	struct partner_cache *c = partner_cache_new(7);
	partner_cache_allow(c, "bank.test");
	partner_cache_allow(c, "auditor@firm.test");
	cr_assert(partner_cache_has(c, "anyone@example.org", "noreply@bank.test"));
	cr_assert(partner_cache_has(c, "x@example.org", "Auditor@firm.test"));
	cr_assert_not(partner_cache_has(c, "x@example.org", "other@firm.test"));
	partner_cache_free(c);
}

Test(partner_cache, the_seed_changes_the_keys_not_the_answers)
{
	struct partner_cache *a = partner_cache_new(1), *b = partner_cache_new(2);
	partner_cache_add(a, "i@example.org", "e@p.test");
	partner_cache_add(b, "i@example.org", "e@p.test");
	cr_assert(partner_cache_has(a, "i@example.org", "e@p.test"));
	cr_assert(partner_cache_has(b, "i@example.org", "e@p.test"));
	partner_cache_free(a);
	partner_cache_free(b);
}

Test(partner_cache, growth_keeps_every_key_and_the_load_at_most_half)
{
	struct partner_cache *c = partner_cache_new(99);
	char in[64], ex[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(in, sizeof(in), "user%d@example.org", i % 100);
		snprintf(ex, sizeof(ex), "peer%d@d%d.test", i, i);
		partner_cache_add(c, in, ex);
	}
	cr_assert_eq(partner_cache_keys(c), 40000);
	cr_assert_geq(partner_cache_bytes(c), 80000 * sizeof(uint64_t));
	for (int i = 0; i < 20000; i++) {
		snprintf(in, sizeof(in), "user%d@example.org", i % 100);
		snprintf(ex, sizeof(ex), "peer%d@d%d.test", i, i);
		cr_assert(partner_cache_has(c, in, ex), "lost %s %s", in, ex);
	}
	int strangers = 0;
	for (int i = 0; i < 20000; i++) {
		snprintf(ex, sizeof(ex), "peer%d@x%d.test", i, i);
		strangers += partner_cache_has(c, "user1@example.org", ex);
	}
	cr_assert_eq(strangers, 0);
	partner_cache_free(c);
}
