/* The quarantine index (issue 11): rows in and out, filters, partial
 * releases, expiry order, the digest's grouping, its bound and that a
 * message is listed once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "state/quarantine_index.h"

static char path[64];
static struct qindex *x;

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/mw-qindex-%d.db", (int)getpid());
	unlink(path);
	x = qindex_open(path);
	cr_assert_not_null(x);
}

static void teardown(void)
{
	char p[80];
	qindex_close(x);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

TestSuite(qindex, .init = setup, .fini = teardown);

static void add(const char *id, uint64_t arrival, const char *dir, const char *sender, int score,
		const char *r1, const char *r2)
{
	const char *rcpts[] = { r1, r2 };
	struct qindex_msg m = { .id = id, .arrival = arrival, .direction = dir, .client = "192.0.2.1",
				.sender = sender, .subject = "s", .score = score, .verdict = "quarantine 12 X(12)",
				.rcpts = rcpts, .n_rcpts = r2 ? 2 : 1 };
	cr_assert(qindex_add(x, &m));
}

static char seen[512];

static void collect(const struct qindex_row *r, void *arg)
{
	size_t used = strlen(seen);
	snprintf(seen + used, sizeof(seen) - used, "%s%s", used ? " " : "", r->id);
}

static const char *list(const struct qindex_filter *f)
{
	seen[0] = '\0';
	cr_assert(qindex_list(x, f, collect, NULL));
	return seen;
}

Test(qindex, lists_oldest_first_with_filters)
{
	add("B", 200, "inbound", "bob@spam.test", 2000, "boss@example.test", NULL);
	add("A", 100, "inbound", "alice@sender.test", 1200, "user@example.test", NULL);
	cr_assert_str_eq(list(&(struct qindex_filter){ 0 }), "A B");
	cr_assert_str_eq(list(&(struct qindex_filter){ .from = "ALICE@" }), "A");
	cr_assert_str_eq(list(&(struct qindex_filter){ .to = "Boss" }), "B");
	cr_assert_str_eq(list(&(struct qindex_filter){ .since = 150 }), "B");
	cr_assert_str_eq(list(&(struct qindex_filter){ .has_min_score = true, .min_score = 1201 }), "B");
	cr_assert(qindex_remove(x, "B"));
	cr_assert_str_eq(list(&(struct qindex_filter){ 0 }), "A");
}

static char released[128];

static void released_of(const struct qindex_row *r, void *arg)
{
	snprintf(released, sizeof(released), "%s|%s", r->rcpts, r->released);
}

Test(qindex, a_partial_release_is_listed)
{
	add("A", 100, "inbound", "a@x.test", 1200, "one@example.test", "two@example.test");
	cr_assert(qindex_mark_released(x, "A", "two@example.test"));
	cr_assert(qindex_list(x, &(struct qindex_filter){ 0 }, released_of, NULL));
	cr_assert_str_eq(released, "one@example.test,two@example.test|two@example.test");
}

static void id_of(const char *id, void *arg)
{
	collect(&(struct qindex_row){ .id = id }, arg);
}

Test(qindex, older_messages_oldest_first_and_bounded)
{
	add("C", 300, "inbound", "c@x.test", 0, "u@example.test", NULL);
	add("A", 100, "inbound", "a@x.test", 0, "u@example.test", NULL);
	add("B", 200, "inbound", "b@x.test", 0, "u@example.test", NULL);
	seen[0] = '\0';
	cr_assert_eq(qindex_each_older(x, 250, 10, id_of, NULL), 2);
	cr_assert_str_eq(seen, "A B");
	seen[0] = '\0';
	cr_assert_eq(qindex_each_older(x, 1000, 1, id_of, NULL), 1);
	cr_assert_str_eq(seen, "A");
}

static char digest[512];

static void d_begin(const char *rcpt, size_t total, void *arg)
{
	size_t used = strlen(digest);
	snprintf(digest + used, sizeof(digest) - used, "%s%s(%zu):", used ? " " : "", rcpt, total);
}

static void d_row(const struct qindex_row *r, void *arg)
{
	size_t used = strlen(digest);
	snprintf(digest + used, sizeof(digest) - used, "%s", r->id);
}

static bool d_end(const char *rcpt, void *arg)
{
	return true;
}

Test(qindex, digest_per_recipient_bounded_inbound_only_once)
{
	add("A", 100, "inbound", "a@x.test", 0, "u1@example.test", NULL);
	add("B", 200, "inbound", "b@x.test", 0, "u1@example.test", "u2@example.test");
	add("C", 300, "inbound", "c@x.test", 0, "u1@example.test", NULL);
	add("O", 150, "outbound", "me@example.test", 0, "far@away.test", NULL);
	add("R", 160, "inbound", "r@x.test", 0, "u3@example.test", NULL);
	cr_assert(qindex_mark_released(x, "R", "u3@example.test"));
	digest[0] = '\0';
	cr_assert_eq(qindex_digest(x, 2, d_begin, d_row, d_end, NULL), 2);
	cr_assert_str_eq(digest, "u1@example.test(3):AB u2@example.test(1):B");
	digest[0] = '\0';
	cr_assert_eq(qindex_digest(x, 2, d_begin, d_row, d_end, NULL), 0, "each message is listed once");
	add("D", 400, "inbound", "d@x.test", 0, "u2@example.test", NULL);
	cr_assert_eq(qindex_digest(x, 2, d_begin, d_row, d_end, NULL), 1);
	cr_assert_str_eq(digest, "u2@example.test(1):D");
}

Test(qindex, the_last_digest_time_is_kept)
{
	cr_assert_eq(qindex_last_digest(x), 0);
	cr_assert(qindex_set_last_digest(x, 12345));
	cr_assert_eq(qindex_last_digest(x), 12345);
}
