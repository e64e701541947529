/* rbldnsd dnset zones: exact names, wildcards, exclusions, values,
 * case, and hostile lines. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "scan/dnset.h"

static struct dnset *parse(const char *text, struct zone_stats *st)
{
	return dnset_parse(text, strlen(text), st);
}

Test(dnset, names_wildcards_and_exclusions)
{
	struct zone_stats st;
	struct dnset *d = parse(":127.0.0.2:Listed: $\n"
				"# comment\n"
				"Spammer.Example\n"
				"*.dyn.example :127.0.0.3:Dynamic\n"
				".bulk.example\n"
				"!ok.bulk.example\n"
				"trailing.example.\n", &st);
	cr_assert_eq(st.bad_lines, 0, "line %zu", st.first_bad_line);
	cr_assert_eq(dnset_entries(d), 5);
	const char *a, *txt;
	cr_assert(dnset_lookup(d, "spammer.example", &a, &txt));
	cr_assert_str_eq(a, "127.0.0.2");
	cr_assert_str_eq(txt, "Listed: $");
	cr_assert(dnset_lookup(d, "SPAMMER.EXAMPLE.", NULL, NULL));
	cr_assert_not(dnset_lookup(d, "sub.spammer.example", NULL, NULL));   /* exact only */
	cr_assert_not(dnset_lookup(d, "dyn.example", NULL, NULL));           /* *. = subdomains only */
	cr_assert(dnset_lookup(d, "host-1.pool.dyn.example", &a, &txt));
	cr_assert_str_eq(a, "127.0.0.3");
	cr_assert_str_eq(txt, "Dynamic");
	cr_assert(dnset_lookup(d, "bulk.example", NULL, NULL));              /* . = name and subdomains */
	cr_assert(dnset_lookup(d, "x.bulk.example", NULL, NULL));
	cr_assert_not(dnset_lookup(d, "ok.bulk.example", NULL, NULL));       /* excluded */
	cr_assert(dnset_lookup(d, "trailing.example", NULL, NULL));
	cr_assert_not(dnset_lookup(d, "example", NULL, NULL));
	cr_assert_not(dnset_lookup(d, "", NULL, NULL));
	cr_assert_not(dnset_lookup(d, "xspammer.example", NULL, NULL));
	dnset_free(d);
}

Test(dnset, the_more_specific_suffix_wins)
{
	struct zone_stats st;
	struct dnset *d = parse(".example :2\n!.good.example\n.bad.good.example :4\n", &st);
	const char *a;
	cr_assert(dnset_lookup(d, "x.example", &a, NULL));
	cr_assert_str_eq(a, "127.0.0.2");
	cr_assert_not(dnset_lookup(d, "x.good.example", NULL, NULL));
	cr_assert(dnset_lookup(d, "y.bad.good.example", &a, NULL));
	cr_assert_str_eq(a, "127.0.0.4");
	dnset_free(d);
}

Test(dnset, hostile_lines_are_counted_and_skipped)
{
	static const char *bad[] = {
		"..example", "a..b", "-", "ex,ample", "-a.example", "a-.example", "exa$mple", "*.", ".", "!", "!*.", "x.example :999",
		"x.example :1.2.3", "\x80\xff.example", "a/b.example",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zone_stats st;
		struct dnset *d = parse(bad[i], &st);
		cr_assert_eq(st.bad_lines, 1, "accepted: %s", bad[i]);
		cr_assert_eq(dnset_entries(d), 0, "listed something for: %s", bad[i]);
		dnset_free(d);
	}
}

Test(dnset, random_bytes_never_crash)
{
	srand(4321);
	char buf[4096];
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		for (size_t i = 0; i < n; i++) {
			static const char alphabet[] = "abc.-*!:0123 \t\n\r#;$\xff";
			buf[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		}
		struct zone_stats st;
		struct dnset *d = dnset_parse(buf, n, &st);
		(void)dnset_lookup(d, "a.b.c", NULL, NULL);
		(void)dnset_lookup(d, "abc", NULL, NULL);
		dnset_free(d);
	}
}
