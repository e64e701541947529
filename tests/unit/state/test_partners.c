/* Known partners in SQLite (issue 13, SCAN-11): learning counts and
 * keeps first/last seen, addresses are matched case-blind, removal,
 * expiry by age, the store survives a reopen, hostile text is text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "state/partners.h"

static char path[64];
static struct partners *p;

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/mw-partners-%d.db", (int)getpid());
	unlink(path);
	p = partners_open(path);
	cr_assert_not_null(p);
}

static void teardown(void)
{
	partners_close(p);
	char side[96];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

TestSuite(partners, .init = setup, .fini = teardown);

struct seen {
	int n;
	struct partner_row last;
	char internal[64], external[64], domain[64];
};

static bool collect(const struct partner_row *row, void *arg)
{
	struct seen *s = arg;
	s->n++;
	s->last = *row;
	snprintf(s->internal, sizeof(s->internal), "%s", row->internal);
	snprintf(s->external, sizeof(s->external), "%s", row->external);
	snprintf(s->domain, sizeof(s->domain), "%s", row->domain);
	return true;
}

static struct seen all(void)
{
	struct seen s = {0};
	cr_assert(partners_each(p, collect, &s));
	return s;
}

Test(partners, learning_twice_counts_and_keeps_first_seen)
{
	struct partner_pair pair = {"Alice@Example.ORG", "Bob@Partner.Test"};
	cr_assert(partners_learn(p, &pair, 1, 1000));
	cr_assert(partners_learn(p, &pair, 1, 2000));
	struct seen s = all();
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.internal, "alice@example.org");
	cr_assert_str_eq(s.external, "bob@partner.test");
	cr_assert_str_eq(s.domain, "partner.test");
	cr_assert_eq(s.last.first_seen, 1000);
	cr_assert_eq(s.last.last_seen, 2000);
	cr_assert_eq(s.last.count, 2);
}

Test(partners, a_batch_is_written_together_and_non_addresses_skipped)
{
	struct partner_pair pairs[] = {
		{"a@example.org", "x@one.test"},
		{"a@example.org", "y@two.test"},
		{"noat", "z@three.test"},
		{"a@example.org", "@nolocal.test"},
		{"a@example.org", "trailing@"},
	};
	cr_assert(partners_learn(p, pairs, 5, 10));
	cr_assert_eq(all().n, 2);
}

Test(partners, remove_one_pair)
{
	struct partner_pair pairs[] = {{"a@example.org", "x@one.test"}, {"b@example.org", "x@one.test"}};
	cr_assert(partners_learn(p, pairs, 2, 10));
	cr_assert_eq(partners_remove(p, "A@example.org", "X@ONE.test"), 1);
	cr_assert_eq(partners_remove(p, "a@example.org", "x@one.test"), 0);
	struct seen s = all();
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.internal, "b@example.org");
}

Test(partners, expiry_forgets_pairs_idle_longer_than_max_age)
{
	struct partner_pair old = {"a@example.org", "old@one.test"};
	struct partner_pair fresh = {"a@example.org", "fresh@one.test"};
	cr_assert(partners_learn(p, &old, 1, 1000));
	cr_assert(partners_learn(p, &fresh, 1, 5000));
	cr_assert_eq(partners_expire(p, 5000, 3000), 1);
	struct seen s = all();
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.external, "fresh@one.test");
	/* seeing a pair again renews it */
	cr_assert(partners_learn(p, &fresh, 1, 9000));
	cr_assert_eq(partners_expire(p, 9500, 3000), 0);
}

Test(partners, store_survives_reopen)
{
	struct partner_pair pair = {"a@example.org", "x@one.test"};
	cr_assert(partners_learn(p, &pair, 1, 10));
	partners_close(p);
	p = partners_open(path);
	cr_assert_not_null(p);
	cr_assert_eq(all().n, 1);
}

Test(partners, hostile_addresses_are_just_text)
{
	struct partner_pair pair = {"a@example.org", "x'); DROP TABLE partner; --@evil.test"};
	cr_assert(partners_learn(p, &pair, 1, 10));
	struct seen s = all();
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.domain, "evil.test");
	char big[400];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[10] = '@';
	struct partner_pair too_long = {"a@example.org", big};
	cr_assert(partners_learn(p, &too_long, 1, 10));
	cr_assert_eq(all().n, 1);
}

Test(partners, domain_of_an_address)
{
	cr_assert_str_eq(partners_domain("a@b@c.test"), "c.test");
	cr_assert_null(partners_domain("nodomain@"));
	cr_assert_null(partners_domain("plain"));
	cr_assert_null(partners_domain(NULL));
}

static bool count_rows(const struct partner_row *row, void *arg)
{
	(void)row;
	++*(int *)arg;
	return true;
}

Test(partners, a_reader_sees_new_pairs_since_a_time_and_removals_by_generation)
{
	struct partner_pair a = {"a@example.org", "x@one.test"}, b = {"a@example.org", "y@two.test"};
	cr_assert(partners_learn(p, &a, 1, 100));
	struct partners *r = partners_open_reader(path);
	cr_assert_not_null(r);
	long long g = partners_generation(r);
	cr_assert_geq(g, 0);
	cr_assert(partners_learn(p, &b, 1, 200));
	int n = 0;
	cr_assert(partners_each_since(r, 200, count_rows, &n));
	cr_assert_eq(n, 1, "only the pair learned at 200");
	cr_assert_eq(partners_generation(r), g, "learning does not change the generation");
	cr_assert_eq(partners_remove(p, "a@example.org", "x@one.test"), 1);
	cr_assert_gt(partners_generation(r), g);
	long long g2 = partners_generation(r);
	cr_assert_eq(partners_expire(p, 10000, 100), 1);
	cr_assert_gt(partners_generation(r), g2);
	partners_close(r);
	cr_assert_null(partners_open_reader("/tmp/mw-no-such-partners.db"));
}
