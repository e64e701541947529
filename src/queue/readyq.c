#include "queue/readyq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "queue/scheduler.h"
#include "util/alloc.h"

#define BUCKETS_MIN 64

struct rq_dest {
	char *key;                       /* lower-cased copy */
	TAILQ_HEAD(, qentry) fifo;
	TAILQ_ENTRY(rq_dest) turn;       /* in the rotation */
	struct rq_dest *next_in_bucket;
};

struct readyq {
	struct rq_dest **buckets;
	size_t n_buckets, n_dests;
	TAILQ_HEAD(, rq_dest) rotation;
};

static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;  /* FNV-1a over the lower-cased key */
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		h ^= (uint64_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		h *= 1099511628211ull;
	}
	return h;
}

struct readyq *readyq_new(void)
{
	struct readyq *rq = xcalloc(1, sizeof(*rq));
	rq->n_buckets = BUCKETS_MIN;
	rq->buckets = xcalloc(rq->n_buckets, sizeof(*rq->buckets));
	TAILQ_INIT(&rq->rotation);
	return rq;
}

void readyq_free(struct readyq *rq)
{
	for (size_t b = 0; b < rq->n_buckets; b++)
		for (struct rq_dest *d = rq->buckets[b], *next; d; d = next) {
			next = d->next_in_bucket;
			free(d->key);
			free(d);
		}
	free(rq->buckets);
	free(rq);
}

size_t readyq_destinations(const struct readyq *rq)
{
	return rq->n_dests;
}

static void grow(struct readyq *rq)
{
	size_t n = rq->n_buckets * 2;
	struct rq_dest **b = xcalloc(n, sizeof(*b));
	for (size_t i = 0; i < rq->n_buckets; i++)
		for (struct rq_dest *d = rq->buckets[i], *next; d; d = next) {
			next = d->next_in_bucket;
			size_t k = key_hash(d->key) & (n - 1);
			d->next_in_bucket = b[k];
			b[k] = d;
		}
	free(rq->buckets);
	rq->buckets = b;
	rq->n_buckets = n;
}

/* The destination for key; made (empty, not in the rotation) if new. */
static struct rq_dest *dest_get(struct readyq *rq, const char *key)
{
	size_t k = key_hash(key) & (rq->n_buckets - 1);
	for (struct rq_dest *d = rq->buckets[k]; d; d = d->next_in_bucket)
		if (strcasecmp(d->key, key) == 0)
			return d;
	if (rq->n_dests >= 2 * rq->n_buckets) {
		grow(rq);
		k = key_hash(key) & (rq->n_buckets - 1);
	}
	struct rq_dest *d = xcalloc(1, sizeof(*d));
	d->key = xstrdup(key);
	TAILQ_INIT(&d->fifo);
	d->next_in_bucket = rq->buckets[k];
	rq->buckets[k] = d;
	rq->n_dests++;
	return d;
}

/* A destination without ready mail is forgotten. */
static void dest_drop(struct readyq *rq, struct rq_dest *gone)
{
	size_t k = key_hash(gone->key) & (rq->n_buckets - 1);
	for (struct rq_dest **p = &rq->buckets[k]; *p; p = &(*p)->next_in_bucket)
		if (*p == gone) {
			*p = gone->next_in_bucket;
			break;
		}
	TAILQ_REMOVE(&rq->rotation, gone, turn);
	rq->n_dests--;
	free(gone->key);
	free(gone);
}

void readyq_push(struct readyq *rq, struct qentry *q)
{
	struct rq_dest *d = dest_get(rq, q->dest_key ? q->dest_key : "");
	if (TAILQ_EMPTY(&d->fifo))
		TAILQ_INSERT_TAIL(&rq->rotation, d, turn);
	TAILQ_INSERT_TAIL(&d->fifo, q, place_link);
	q->ready_dest = d;
}

void readyq_remove(struct readyq *rq, struct qentry *q)
{
	struct rq_dest *d = q->ready_dest;
	TAILQ_REMOVE(&d->fifo, q, place_link);
	q->ready_dest = NULL;
	if (TAILQ_EMPTY(&d->fifo))
		dest_drop(rq, d);
}

struct qentry *readyq_next(struct readyq *rq)
{
	struct rq_dest *d = TAILQ_FIRST(&rq->rotation);
	if (!d)
		return NULL;
	TAILQ_REMOVE(&rq->rotation, d, turn);
	TAILQ_INSERT_TAIL(&rq->rotation, d, turn);
	return TAILQ_FIRST(&d->fifo);
}
