/* The TLS-RPT counts in SQLite (src/state/tlsrpt_store.c, TLS-8): counts
 * add up per key, the days' domains not yet reported, pruning. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/tlsrpt_store.h"

static char path[64];
static struct tlsrpt_store *st;

static void remove_files(void)
{
	const char *suffix[] = { "", "-wal", "-shm" };
	char p[80];
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
}

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/mw-tlsrpt-%d.db", (int)getpid());
	remove_files();
	st = tlsrpt_store_open(path);
	cr_assert_not_null(st);
}

static void teardown(void)
{
	tlsrpt_store_close(st);
	remove_files();
}

static struct tlsrpt_row row(const char *domain, const char *result, unsigned long long count)
{
	return (struct tlsrpt_row){ domain, "sts", "version: STSv1\nmode: testing", "mx.a.test", result,
				    result[0] ? "mx.a.test" : "", result[0] ? "192.0.2.1" : "", "", "", count };
}

struct seen {
	char text[1024];
};

static void print_row(void *arg, const struct tlsrpt_row *r)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);
	snprintf(s->text + n, sizeof(s->text) - n, "%s/%s=%llu;", r->domain, r->result[0] ? r->result : "ok",
		 r->count);
}

TestSuite(tlsrpt_store, .init = setup, .fini = teardown);

Test(tlsrpt_store, counts_add_up_per_key)
{
	struct tlsrpt_row a[] = { row("b.test", "", 2), row("a.test", "certificate-expired", 1), row("a.test", "", 1) };
	cr_assert(tlsrpt_store_add(st, "2026-12-07", a, 3));
	struct tlsrpt_row b[] = { row("a.test", "certificate-expired", 4) };
	cr_assert(tlsrpt_store_add(st, "2026-12-07", b, 1));
	cr_assert(tlsrpt_store_add(st, "2026-12-08", b, 1));
	struct seen s = { "" };
	cr_assert(tlsrpt_store_rows(st, "2026-12-07", NULL, print_row, &s));
	cr_assert_str_eq(s.text, "a.test/ok=1;a.test/certificate-expired=5;b.test/ok=2;", "successes first");
	s.text[0] = '\0';
	cr_assert(tlsrpt_store_rows(st, "2026-12-07", "b.test", print_row, &s));
	cr_assert_str_eq(s.text, "b.test/ok=2;");
}

Test(tlsrpt_store, unsent_domains_and_pruning)
{
	struct tlsrpt_row a[] = { row("b.test", "", 1), row("a.test", "", 1) };
	cr_assert(tlsrpt_store_add(st, "2026-12-06", a, 2));
	size_t n;
	char **d = tlsrpt_store_unsent(st, "2026-12-06", &n);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(d[0], "a.test");
	for (size_t i = 0; i < n; i++)
		free(d[i]);
	free(d);
	cr_assert(tlsrpt_store_mark_sent(st, "2026-12-06", "a.test", "id1"));
	d = tlsrpt_store_unsent(st, "2026-12-06", &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(d[0], "b.test");
	free(d[0]);
	free(d);

	cr_assert(tlsrpt_store_prune(st, "2026-12-07"));
	struct seen s = { "" };
	cr_assert(tlsrpt_store_rows(st, "2026-12-06", NULL, print_row, &s));
	cr_assert_str_eq(s.text, "", "older days are gone");
}
