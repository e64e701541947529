/* The ready queue (src/queue/readyq.c): one FIFO per destination,
 * destinations served in turn, keys compared without case, removal from
 * anywhere, and many destinations (the hash table grows). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/readyq.h"
#include "queue/scheduler.h"

static struct qentry *entry(const char *dest)
{
	struct qentry *q = calloc(1, sizeof(*q));
	q->dest_key = dest;
	return q;
}

/* Take the next entry the way the scheduler does: next, then remove. */
static struct qentry *take(struct readyq *rq)
{
	struct qentry *q = readyq_next(rq);
	if (q)
		readyq_remove(rq, q);
	return q;
}

Test(readyq, one_destination_is_first_come_first_served)
{
	struct readyq *rq = readyq_new(1000);
	struct qentry *a = entry("a.test"), *b = entry("a.test"), *c = entry("a.test");
	readyq_push(rq, a);
	readyq_push(rq, b);
	readyq_push(rq, c);
	cr_assert_eq(take(rq), a);
	cr_assert_eq(take(rq), b);
	cr_assert_eq(take(rq), c);
	cr_assert_null(take(rq));
	cr_assert_eq(readyq_destinations(rq), 0);
	readyq_free(rq);
	free(a), free(b), free(c);
}

Test(readyq, destinations_take_turns)
{
	struct readyq *rq = readyq_new(1000);
	struct qentry *slow[5], *fast = entry("fast.test");
	for (int i = 0; i < 5; i++) {
		slow[i] = entry("slow.test");
		readyq_push(rq, slow[i]);
	}
	readyq_push(rq, fast);
	cr_assert_eq(readyq_destinations(rq), 2);
	cr_assert_eq(take(rq), slow[0]);
	cr_assert_eq(take(rq), fast, "the second destination waits for one turn, not for the backlog");
	for (int i = 1; i < 5; i++)
		cr_assert_eq(take(rq), slow[i]);
	cr_assert_null(take(rq));
	readyq_free(rq);
	for (int i = 0; i < 5; i++)
		free(slow[i]);
	free(fast);
}

Test(readyq, keys_compare_without_case)
{
	struct readyq *rq = readyq_new(1000);
	struct qentry *a = entry("Example.TEST"), *b = entry("example.test");
	readyq_push(rq, a);
	readyq_push(rq, b);
	cr_assert_eq(readyq_destinations(rq), 1);
	readyq_free(rq);
	free(a), free(b);
}

Test(readyq, removal_from_the_middle_and_of_the_last_one)
{
	struct readyq *rq = readyq_new(1000);
	struct qentry *a = entry("a.test"), *b = entry("a.test"), *c = entry("b.test");
	readyq_push(rq, a);
	readyq_push(rq, b);
	readyq_push(rq, c);
	readyq_remove(rq, b);         /* an administrator held it */
	readyq_remove(rq, c);         /* b.test has nothing left: forgotten */
	cr_assert_eq(readyq_destinations(rq), 1);
	cr_assert_eq(take(rq), a);
	cr_assert_null(take(rq));
	readyq_free(rq);
	free(a), free(b), free(c);
}

Test(readyq, many_destinations)
{
	enum { N = 5000 };
	struct readyq *rq = readyq_new(1000);
	static char keys[N][32];
	struct qentry **q = calloc(2 * N, sizeof(*q));
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "d%d.test", i);
		q[2 * i] = entry(keys[i]);
		q[2 * i + 1] = entry(keys[i]);
	}
	for (int i = 0; i < 2 * N; i++)
		readyq_push(rq, q[i]);
	cr_assert_eq(readyq_destinations(rq), N);
	/* A full turn gives every destination its first message, in order. */
	for (int i = 0; i < N; i++)
		cr_assert_eq(take(rq), q[2 * i]);
	for (int i = 0; i < N; i++)
		cr_assert_eq(take(rq), q[2 * i + 1]);
	cr_assert_null(take(rq));
	readyq_free(rq);
	for (int i = 0; i < 2 * N; i++)
		free(q[i]);
	free(q);
}

static struct qentry *hop_entry(const char *dest, const char *hop)
{
	struct qentry *q = entry(dest);
	snprintf(q->hop_key, sizeof(q->hop_key), "%s", hop);
	return q;
}

/* Issue 18 item 9: a next hop with its share of rounds in flight gets no
 * more until one of them ends; the others are served meanwhile. */
Test(readyq, a_next_hop_at_its_share_gets_no_slot_until_a_round_ends)
{
	struct readyq *rq = readyq_new(2);
	struct qentry *slow[5], *fast[3];
	for (int i = 0; i < 5; i++)
		readyq_push(rq, slow[i] = hop_entry("slow.test", "smtp://127.0.0.1:2001"));
	for (int i = 0; i < 3; i++)
		readyq_push(rq, fast[i] = hop_entry("fast.test", "smtp://127.0.0.1:2002"));
	struct qentry *q;
	cr_assert_eq(q = readyq_next(rq), slow[0]);
	readyq_start(rq, q);
	cr_assert_eq(q = readyq_next(rq), fast[0]);
	readyq_start(rq, q);
	cr_assert_eq(q = readyq_next(rq), slow[1]);
	readyq_start(rq, q);
	/* slow has its two rounds: only fast mail is handed out, as fast as
	 * its deliveries end. */
	for (int i = 1; i < 3; i++) {
		readyq_finish(rq, fast[i - 1]);
		cr_assert_eq(q = readyq_next(rq), fast[i]);
		readyq_start(rq, q);
	}
	readyq_finish(rq, fast[2]);
	cr_assert_null(readyq_next(rq), "the slow next hop took more than its share");
	readyq_finish(rq, slow[0]);
	cr_assert_eq(readyq_next(rq), slow[2]);
	readyq_free(rq);
	for (int i = 0; i < 5; i++)
		free(slow[i]);
	for (int i = 0; i < 3; i++)
		free(fast[i]);
}

Test(readyq, domains_behind_one_next_hop_take_turns_and_share_its_limit)
{
	struct readyq *rq = readyq_new(1);
	struct qentry *a = hop_entry("a.test", "smtp://hub"), *b = hop_entry("a.test", "smtp://hub"),
		      *c = hop_entry("b.test", "smtp://hub");
	readyq_push(rq, a);
	readyq_push(rq, b);
	readyq_push(rq, c);
	cr_assert_eq(readyq_destinations(rq), 2);
	cr_assert_eq(readyq_next(rq), a);
	readyq_start(rq, a);
	cr_assert_null(readyq_next(rq), "b.test went to the same next hop beyond its share");
	readyq_finish(rq, a);
	cr_assert_eq(readyq_next(rq), c, "b.test waited behind a.test's backlog");
	readyq_free(rq);
	free(a), free(b), free(c);
}
