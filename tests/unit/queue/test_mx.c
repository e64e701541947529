/* MX ordering (src/queue/mx.c): RFC 5321 5.1 and RFC 7505. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "queue/mx.h"

static struct dns_mx mx(unsigned pref, const char *host)
{
	struct dns_mx m = { .preference = pref };
	strncpy(m.host, host, sizeof(m.host) - 1);
	return m;
}

Test(mx_plan, lowest_preference_first_and_stable_for_equal_ones)
{
	struct dns_mx in[] = { mx(20, "c.test"), mx(10, "a.test"), mx(30, "d.test"), mx(10, "b.test") };
	struct mx_plan p;
	cr_assert_eq(mx_plan(in, 4, "x.test", "gw.test", NULL, &p), MX_OK);
	cr_assert_eq(p.n, 4);
	cr_assert_str_eq(p.hosts[0], "a.test");
	cr_assert_str_eq(p.hosts[1], "b.test");
	cr_assert_str_eq(p.hosts[2], "c.test");
	cr_assert_str_eq(p.hosts[3], "d.test");
}

Test(mx_plan, no_mx_means_the_domain_itself)
{
	struct mx_plan p;
	cr_assert_eq(mx_plan(NULL, 0, "amx.test", "gw.test", NULL, &p), MX_OK);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.hosts[0], "amx.test");
}

Test(mx_plan, null_mx_refuses_mail)
{
	struct dns_mx in[] = { mx(0, "") };
	struct mx_plan p;
	cr_assert_eq(mx_plan(in, 1, "x.test", "gw.test", NULL, &p), MX_NULL);
	struct dns_mx dot[] = { mx(0, ".") };
	cr_assert_eq(mx_plan(dot, 1, "x.test", "gw.test", NULL, &p), MX_NULL);
}

Test(mx_plan, our_own_name_cuts_equal_and_worse_preferences)
{
	struct dns_mx in[] = { mx(10, "up.test"), mx(20, "GW.test."), mx(20, "peer.test"), mx(30, "late.test") };
	struct mx_plan p;
	cr_assert_eq(mx_plan(in, 4, "x.test", "gw.test", NULL, &p), MX_OK);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.hosts[0], "up.test");
}

Test(mx_plan, we_are_the_best_mx_is_a_loop)
{
	struct dns_mx in[] = { mx(10, "gw.test"), mx(20, "backup.test") };
	struct mx_plan p;
	cr_assert_eq(mx_plan(in, 2, "x.test", "gw.test", NULL, &p), MX_LOOP);
}

Test(mx_plan, duplicates_once_and_at_most_the_maximum)
{
	struct dns_mx in[30];
	for (unsigned i = 0; i < 30; i++)
		in[i] = mx(i, i % 2 ? "same.test" : "SAME.test.");
	struct mx_plan p;
	cr_assert_eq(mx_plan(in, 30, "x.test", NULL, NULL, &p), MX_OK);
	cr_assert_eq(p.n, 1);
	char names[30][16];
	for (unsigned i = 0; i < 30; i++) {
		snprintf(names[i], sizeof(names[i]), "h%u.test", i);
		in[i] = mx(100 - i, names[i]);
	}
	cr_assert_eq(mx_plan(in, 30, "x.test", NULL, NULL, &p), MX_OK);
	cr_assert_eq(p.n, MX_HOSTS_MAX);
	cr_assert_str_eq(p.hosts[0], "h29.test");
}

static unsigned counter_rnd(void)
{
	static unsigned n;
	return n++ * 2654435761u;
}

Test(mx_plan, equal_preferences_are_shuffled_but_stay_in_their_group)
{
	struct dns_mx in[] = { mx(10, "a1.test"), mx(10, "a2.test"), mx(10, "a3.test"), mx(20, "b1.test"),
			       mx(20, "b2.test") };
	bool seen_other_first = false;
	for (int round = 0; round < 50; round++) {
		struct mx_plan p;
		cr_assert_eq(mx_plan(in, 5, "x.test", NULL, counter_rnd, &p), MX_OK);
		cr_assert_eq(p.n, 5);
		for (size_t i = 0; i < 3; i++)
			cr_assert(p.hosts[i][0] == 'a', "%zu: %s", i, p.hosts[i]);
		for (size_t i = 3; i < 5; i++)
			cr_assert(p.hosts[i][0] == 'b', "%zu: %s", i, p.hosts[i]);
		seen_other_first |= strcmp(p.hosts[0], "a1.test") != 0;
	}
	cr_assert(seen_other_first);
}

/* Attack catalogue case 154: an MX target that is an address is no host
 * name (RFC 1035 3.3.9); DNS garbage must not pick where mail goes. */
Test(mx_plan, ip_literal_targets_are_skipped)
{
	struct dns_mx in[] = { mx(5, "127.0.0.1"), mx(6, "[127.0.0.1]"), mx(7, "::1"), mx(8, "192.0.2.1."),
			       mx(20, "real.test") };
	struct mx_plan p;
	cr_assert_eq(mx_plan(in, 5, "x.test", NULL, NULL, &p), MX_OK);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.hosts[0], "real.test");
	cr_assert_eq(p.ip_literals, 4);
}

Test(mx_plan, only_ip_literal_targets_leave_no_usable_mx)
{
	struct dns_mx in[] = { mx(10, "127.0.0.1"), mx(20, "[::1]") };
	struct mx_plan p;
	cr_assert_eq(mx_plan(in, 2, "x.test", NULL, NULL, &p), MX_IP_LITERAL);
	cr_assert_eq(p.n, 0);
}

Test(mx_plan, names_that_look_numeric_are_still_names)
{
	struct dns_mx in[] = { mx(10, "1.2.3.4.in-addr.test"), mx(20, "123"), mx(30, "0x7f.test") };
	struct mx_plan p;
	cr_assert_eq(mx_plan(in, 3, "x.test", NULL, NULL, &p), MX_OK);
	cr_assert_eq(p.n, 3);
	cr_assert_eq(p.ip_literals, 0);
}
