#include "queue/readyq.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "queue/scheduler.h"
#include "util/alloc.h"
#include "util/fnv.h"

#define BUCKETS_MIN 64

/* A chained hash table of keyed nodes (next hops, destinations). */
struct rq_node {
	char *key;                       /* compared without case */
	struct rq_node *next_in_bucket;
};

struct rq_table {
	struct rq_node **buckets;
	size_t n_buckets, n;
};

struct rq_hop {
	struct rq_node node;             /* key: the next hop; first member */
	unsigned busy;                   /* rounds in flight (readyq_start .. readyq_finish) */
	TAILQ_HEAD(, rq_dest) dests;     /* its destinations with ready mail, in turn order */
	TAILQ_ENTRY(rq_hop) turn;        /* in the rotation while turning */
	bool turning;                    /* has ready mail and busy < share */
};

struct rq_dest {
	struct rq_node node;             /* key: domain '\n' next hop; first member */
	struct rq_hop *hop;
	TAILQ_HEAD(, qentry) fifo;
	TAILQ_ENTRY(rq_dest) turn;       /* in hop->dests */
};

struct readyq {
	struct rq_table hops, dests;
	unsigned share;
	TAILQ_HEAD(, rq_hop) rotation;
};

static uint64_t key_hash(const char *s)
{
	return fnv64_mix_lower(FNV64_OFFSET, s, strlen(s));
}

static void table_init(struct rq_table *t)
{
	t->n_buckets = BUCKETS_MIN;
	t->buckets = xcalloc(t->n_buckets, sizeof(*t->buckets));
	t->n = 0;
}

static struct rq_node *table_find(const struct rq_table *t, const char *key)
{
	for (struct rq_node *n = t->buckets[key_hash(key) & (t->n_buckets - 1)]; n; n = n->next_in_bucket)
		if (strcasecmp(n->key, key) == 0)
			return n;
	return NULL;
}

static void table_grow(struct rq_table *t)
{
	size_t nb = t->n_buckets * 2;
	struct rq_node **b = xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct rq_node *n = t->buckets[i], *next; n; n = next) {
			next = n->next_in_bucket;
			size_t k = key_hash(n->key) & (nb - 1);
			n->next_in_bucket = b[k];
			b[k] = n;
		}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = nb;
}

static void table_add(struct rq_table *t, struct rq_node *n)
{
	if (t->n >= 2 * t->n_buckets)
		table_grow(t);
	size_t k = key_hash(n->key) & (t->n_buckets - 1);
	n->next_in_bucket = t->buckets[k];
	t->buckets[k] = n;
	t->n++;
}

static void table_del(struct rq_table *t, struct rq_node *gone)
{
	for (struct rq_node **p = &t->buckets[key_hash(gone->key) & (t->n_buckets - 1)]; *p; p = &(*p)->next_in_bucket)
		if (*p == gone) {
			*p = gone->next_in_bucket;
			t->n--;
			return;
		}
}

/* Frees every node (each one's first member is its rq_node). */
static void table_free(struct rq_table *t)
{
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct rq_node *n = t->buckets[i], *next; n; n = next) {
			next = n->next_in_bucket;
			free(n->key);
			free(n);
		}
	free(t->buckets);
}

struct readyq *readyq_new(unsigned share)
{
	struct readyq *rq = xcalloc(1, sizeof(*rq));
	table_init(&rq->hops);
	table_init(&rq->dests);
	rq->share = share ? share : 1;
	TAILQ_INIT(&rq->rotation);
	return rq;
}

void readyq_free(struct readyq *rq)
{
	table_free(&rq->dests);
	table_free(&rq->hops);
	free(rq);
}

size_t readyq_destinations(const struct readyq *rq)
{
	return rq->dests.n;
}

static struct rq_hop *hop_get(struct readyq *rq, const char *key)
{
	struct rq_hop *h = (struct rq_hop *)table_find(&rq->hops, key);
	if (h)
		return h;
	h = xcalloc(1, sizeof(*h));
	h->node.key = xstrdup(key);
	TAILQ_INIT(&h->dests);
	table_add(&rq->hops, &h->node);
	return h;
}

/* The one place a next hop joins or leaves the rotation, or is forgotten
 * (no ready mail, nothing in flight). */
static void hop_update(struct readyq *rq, struct rq_hop *h)
{
	bool turn = !TAILQ_EMPTY(&h->dests) && h->busy < rq->share;
	if (turn && !h->turning)
		TAILQ_INSERT_TAIL(&rq->rotation, h, turn);
	else if (!turn && h->turning)
		TAILQ_REMOVE(&rq->rotation, h, turn);
	h->turning = turn;
	if (TAILQ_EMPTY(&h->dests) && h->busy == 0) {
		table_del(&rq->hops, &h->node);
		free(h->node.key);
		free(h);
	}
}

void readyq_push(struct readyq *rq, struct qentry *q)
{
	char key[600];
	snprintf(key, sizeof(key), "%s\n%s", q->dest_key ? q->dest_key : "", q->hop_key);
	struct rq_dest *d = (struct rq_dest *)table_find(&rq->dests, key);
	if (!d) {
		d = xcalloc(1, sizeof(*d));
		d->node.key = xstrdup(key);
		d->hop = hop_get(rq, q->hop_key);
		TAILQ_INIT(&d->fifo);
		table_add(&rq->dests, &d->node);
	}
	if (TAILQ_EMPTY(&d->fifo))
		TAILQ_INSERT_TAIL(&d->hop->dests, d, turn);
	TAILQ_INSERT_TAIL(&d->fifo, q, place_link);
	q->ready_dest = d;
	hop_update(rq, d->hop);
}

void readyq_remove(struct readyq *rq, struct qentry *q)
{
	struct rq_dest *d = q->ready_dest;
	struct rq_hop *h = d->hop;
	TAILQ_REMOVE(&d->fifo, q, place_link);
	q->ready_dest = NULL;
	if (TAILQ_EMPTY(&d->fifo)) {
		/* A destination without ready mail is forgotten. */
		TAILQ_REMOVE(&h->dests, d, turn);
		table_del(&rq->dests, &d->node);
		free(d->node.key);
		free(d);
	}
	hop_update(rq, h);
}

struct qentry *readyq_next(struct readyq *rq)
{
	struct rq_hop *h = TAILQ_FIRST(&rq->rotation);
	if (!h)
		return NULL;
	TAILQ_REMOVE(&rq->rotation, h, turn);
	TAILQ_INSERT_TAIL(&rq->rotation, h, turn);
	struct rq_dest *d = TAILQ_FIRST(&h->dests);
	TAILQ_REMOVE(&h->dests, d, turn);
	TAILQ_INSERT_TAIL(&h->dests, d, turn);
	return TAILQ_FIRST(&d->fifo);
}

bool readyq_start(struct readyq *rq, struct qentry *q)
{
	struct rq_hop *h = q->ready_dest->hop;
	h->busy++;  /* first: the hop must outlive the removal of its last ready message */
	bool full = h->busy >= rq->share;  /* before the removal: gcc -O3 cannot see that h outlives it */
	readyq_remove(rq, q);
	q->flight_hop = h;
	return full;
}

void readyq_finish(struct readyq *rq, struct qentry *q)
{
	struct rq_hop *h = q->flight_hop;
	if (!h)
		return;
	q->flight_hop = NULL;
	h->busy--;
	hop_update(rq, h);
}
