/* The MTA-STS policy cache in SQLite (src/state/mtasts_cache.c, TLS-8):
 * put, get, replace under a new id, persistence across a reopen. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/mtasts_cache.h"

static char path[64];
static struct mtasts_cache *mc;

static void remove_files(void)
{
	char p[80];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/mw-mtasts-%d.db", (int)getpid());
	remove_files();
	mc = mtasts_cache_open(path);
	cr_assert_not_null(mc);
}

static void teardown(void)
{
	mtasts_cache_close(mc);
	remove_files();
}

TestSuite(mtasts_cache, .init = setup, .fini = teardown);

Test(mtasts_cache, unknown_domain_is_not_found)
{
	struct mtasts_cached c;
	cr_assert_not(mtasts_cache_get(mc, "example.org", &c));
}

Test(mtasts_cache, put_get_replace_and_reopen)
{
	static const char text[] = "version: STSv1\nmode: enforce\nmx: mx.example.org\nmax_age: 600\n";
	cr_assert(mtasts_cache_put(mc, "example.org", "id1", text, strlen(text), 1000, 1600));
	struct mtasts_cached c;
	cr_assert(mtasts_cache_get(mc, "example.org", &c));
	cr_assert_str_eq(c.id, "id1");
	cr_assert_eq(c.len, strlen(text));
	cr_assert_str_eq(c.text, text);
	cr_assert_eq(c.fetched, 1000);
	cr_assert_eq(c.expires, 1600);
	free(c.text);

	cr_assert(mtasts_cache_put(mc, "example.org", "id2", "x", 1, 2000, 2600));
	mtasts_cache_close(mc);
	mc = mtasts_cache_open(path);
	cr_assert_not_null(mc);
	cr_assert(mtasts_cache_get(mc, "example.org", &c));
	cr_assert_str_eq(c.id, "id2", "a new id replaces the entry, and it survives a reopen");
	cr_assert_str_eq(c.text, "x");
	free(c.text);
}
