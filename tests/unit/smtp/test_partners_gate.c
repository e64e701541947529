/* partners_only's decision (issue 13, SCAN-11, smtp/partners_gate.c):
 * which direction each policy guards, our own users among themselves,
 * and that nobody is a partner before the cache has anything. */
#include <criterion/criterion.h>

#include "smtp/partners_gate.h"

Test(partners_gate, off_lets_everyone_through)
{
	cr_assert(partners_gate_allows(PARTNERS_ONLY_OFF, false, true, "stranger@evil.test", "u@example.test"));
}

Test(partners_gate, each_policy_guards_its_direction_only)
{
	/* inbound: a stranger to a local user */
	cr_assert_not(partners_gate_allows(PARTNERS_ONLY_INBOUND, false, true, "s@evil.test", "u@example.test"));
	cr_assert_not(partners_gate_allows(PARTNERS_ONLY_BOTH, false, true, "s@evil.test", "u@example.test"));
	cr_assert(partners_gate_allows(PARTNERS_ONLY_OUTBOUND, false, true, "s@evil.test", "u@example.test"));
	/* outbound: a local user to a stranger */
	cr_assert(partners_gate_allows(PARTNERS_ONLY_INBOUND, true, false, "u@example.test", "s@evil.test"));
	cr_assert_not(partners_gate_allows(PARTNERS_ONLY_OUTBOUND, true, false, "u@example.test", "s@evil.test"));
	cr_assert_not(partners_gate_allows(PARTNERS_ONLY_BOTH, true, false, "u@example.test", "s@evil.test"));
}

Test(partners_gate, our_own_users_reach_each_other_under_every_policy)
{
	cr_assert(partners_gate_allows(PARTNERS_ONLY_BOTH, true, true, "u@example.test", "v@example.test"));
	cr_assert(partners_gate_allows(PARTNERS_ONLY_OUTBOUND, true, true, "u@example.test", "v@example.test"));
}

Test(partners_gate, the_null_sender_is_no_partner)
{
	cr_assert_not(partners_gate_allows(PARTNERS_ONLY_INBOUND, false, true, "", "u@example.test"));
}
