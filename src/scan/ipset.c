/*
 * Sorted disjoint ranges with binary search. See ipset.h. The build turns
 * possibly overlapping input into disjoint segments with a sweep over the
 * range boundaries and a min-heap of the ranges covering the current
 * point (narrowest first): O(n log n), whatever the input looks like, so a
 * hostile zone file cannot make lookups slow.
 */
#include "scan/ipset.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

typedef unsigned __int128 u128;

struct pending {
	u128 lo, hi;
	uint32_t value, seq;
};

/* IPv4 input, compact: lists have millions of these. */
struct pending4 {
	uint32_t lo, hi, value, seq;
};

struct family {
	struct pending *in;      /* until the build (IPv6) */
	struct pending4 *in4;    /* until the build (IPv4) */
	size_t n_in, cap_in;
	/* after the build: */
	void *lo, *hi;           /* uint32_t[] for IPv4, u128[] for IPv6 */
	uint32_t *value;
	size_t n;
};

struct ipset {
	struct family v4, v6;
	uint32_t seq;
};

struct ipset *ipset_new(void)
{
	return xcalloc(1, sizeof(struct ipset));
}

static void family_free(struct family *f)
{
	free(f->in);
	free(f->in4);
	free(f->lo);
	free(f->hi);
	free(f->value);
}

void ipset_free(struct ipset *s)
{
	if (!s)
		return;
	family_free(&s->v4);
	family_free(&s->v6);
	free(s);
}

static void add(struct ipset *s, struct family *f, u128 lo, u128 hi, uint32_t value)
{
	if (lo > hi)
		return;
	if (f->n_in == f->cap_in) {
		f->cap_in = f->cap_in ? f->cap_in * 2 : 64;
		f->in = xreallocarray(f->in, f->cap_in, sizeof(*f->in));
	}
	f->in[f->n_in++] = (struct pending){ lo, hi, value, s->seq++ };
}

void ipset_add4(struct ipset *s, uint32_t lo, uint32_t hi, uint32_t value)
{
	struct family *f = &s->v4;
	if (lo > hi)
		return;
	if (f->n_in == f->cap_in) {
		f->cap_in = f->cap_in ? f->cap_in * 2 : 64;
		f->in4 = xreallocarray(f->in4, f->cap_in, sizeof(*f->in4));
	}
	f->in4[f->n_in++] = (struct pending4){ lo, hi, value, s->seq++ };
}

static u128 from_bytes(const unsigned char b[16])
{
	u128 v = 0;
	for (int i = 0; i < 16; i++)
		v = (v << 8) | b[i];
	return v;
}

void ipset_add6(struct ipset *s, const unsigned char lo[16], const unsigned char hi[16], uint32_t value)
{
	add(s, &s->v6, from_bytes(lo), from_bytes(hi), value);
}

static int by_lo(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_u128(const void *a, const void *b)
{
	u128 x, y;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x < y ? -1 : x > y;
}

/* Heap order: narrower first; equal width: added later first. */
static bool before(const struct pending *a, const struct pending *b)
{
	u128 wa = a->hi - a->lo, wb = b->hi - b->lo;
	return wa != wb ? wa < wb : a->seq > b->seq;
}

struct heap {
	const struct pending **item;
	size_t n;
};

static void heap_push(struct heap *h, const struct pending *p)
{
	size_t i = h->n++;
	h->item[i] = p;
	while (i > 0 && before(h->item[i], h->item[(i - 1) / 2])) {
		const struct pending *t = h->item[i];
		h->item[i] = h->item[(i - 1) / 2];
		h->item[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static void heap_pop(struct heap *h)
{
	h->item[0] = h->item[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && before(h->item[l], h->item[m]))
			m = l;
		if (r < h->n && before(h->item[r], h->item[m]))
			m = r;
		if (m == i)
			break;
		const struct pending *t = h->item[i];
		h->item[i] = h->item[m];
		h->item[m] = t;
		i = m;
	}
}

static void emit(struct family *f, bool v4, size_t *cap, u128 lo, u128 hi, uint32_t value)
{
	if (value == IPSET_EXCLUDE)
		return;
	if (f->n > 0) {
		/* Merge with the previous segment when contiguous with the same value. */
		u128 prev_hi = v4 ? ((uint32_t *)f->hi)[f->n - 1] : ((u128 *)f->hi)[f->n - 1];
		if (f->value[f->n - 1] == value && prev_hi + 1 == lo) {
			if (v4)
				((uint32_t *)f->hi)[f->n - 1] = (uint32_t)hi;
			else
				((u128 *)f->hi)[f->n - 1] = hi;
			return;
		}
	}
	if (f->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		size_t w = v4 ? sizeof(uint32_t) : sizeof(u128);
		f->lo = xreallocarray(f->lo, *cap, w);
		f->hi = xreallocarray(f->hi, *cap, w);
		f->value = xreallocarray(f->value, *cap, sizeof(uint32_t));
	}
	if (v4) {
		((uint32_t *)f->lo)[f->n] = (uint32_t)lo;
		((uint32_t *)f->hi)[f->n] = (uint32_t)hi;
	} else {
		((u128 *)f->lo)[f->n] = lo;
		((u128 *)f->hi)[f->n] = hi;
	}
	f->value[f->n++] = value;
}

static void build(struct family *f, bool v4)
{
	size_t n = f->n_in;
	if (n == 0)
		return;
	qsort(f->in, n, sizeof(*f->in), by_lo);
	/* Every point where the covering set can change. */
	u128 *bound = xreallocarray(NULL, 2 * n, sizeof(u128));
	size_t nb = 0;
	u128 top = v4 ? (u128)UINT32_MAX : ~(u128)0;
	for (size_t i = 0; i < n; i++) {
		bound[nb++] = f->in[i].lo;
		if (f->in[i].hi < top)
			bound[nb++] = f->in[i].hi + 1;
	}
	qsort(bound, nb, sizeof(u128), cmp_u128);
	struct heap h = { xreallocarray(NULL, n, sizeof(*h.item)), 0 };
	size_t next = 0, cap = 0;
	for (size_t b = 0; b < nb; b++) {
		if (b > 0 && bound[b] == bound[b - 1])
			continue;
		u128 at = bound[b];
		while (next < n && f->in[next].lo <= at)
			heap_push(&h, &f->in[next++]);
		while (h.n > 0 && h.item[0]->hi < at)
			heap_pop(&h);
		/* Ranges that ended are only popped when they reach the top: skip
		 * stale ones below by checking the winner only. */
		if (h.n == 0)
			continue;
		size_t e = b + 1;
		while (e < nb && bound[e] == at)
			e++;
		u128 end = e < nb ? bound[e] - 1 : top;
		if (end > h.item[0]->hi)
			end = h.item[0]->hi;  /* cannot happen: its end is a boundary */
		emit(f, v4, &cap, at, end, h.item[0]->value);
	}
	free(h.item);
	free(bound);
	if (f->n > 0) {  /* give back the growth slack */
		size_t w = v4 ? sizeof(uint32_t) : sizeof(u128);
		f->lo = xreallocarray(f->lo, f->n, w);
		f->hi = xreallocarray(f->hi, f->n, w);
		f->value = xreallocarray(f->value, f->n, sizeof(uint32_t));
	}
	free(f->in);
	f->in = NULL;
	f->n_in = f->cap_in = 0;
}

static int by_lo4(const void *a, const void *b)
{
	const struct pending4 *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct heap4 {
	const struct pending4 *in;
	uint32_t *item;
	size_t n;
};

static bool before4(const struct heap4 *h, uint32_t a, uint32_t b)
{
	const struct pending4 *x = &h->in[a], *y = &h->in[b];
	uint32_t wa = x->hi - x->lo, wb = y->hi - y->lo;
	return wa != wb ? wa < wb : x->seq > y->seq;
}

static void heap4_swap(struct heap4 *h, size_t i, size_t j)
{
	uint32_t t = h->item[i];
	h->item[i] = h->item[j];
	h->item[j] = t;
}

static void heap4_push(struct heap4 *h, uint32_t idx)
{
	size_t i = h->n++;
	h->item[i] = idx;
	while (i > 0 && before4(h, h->item[i], h->item[(i - 1) / 2])) {
		heap4_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap4_pop(struct heap4 *h)
{
	h->item[0] = h->item[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && before4(h, h->item[l], h->item[m]))
			m = l;
		if (r < h->n && before4(h, h->item[r], h->item[m]))
			m = r;
		if (m == i)
			break;
		heap4_swap(h, i, m);
		i = m;
	}
}

/* IPv4: the same sweep as build(), on compact types. Input that is
 * already disjoint (the usual list of single addresses and networks)
 * skips the sweep and its memory. */
static void build4(struct family *f)
{
	size_t n = f->n_in, cap = 0;
	if (n == 0)
		return;
	qsort(f->in4, n, sizeof(*f->in4), by_lo4);
	bool disjoint = true;
	for (size_t i = 1; i < n && disjoint; i++)
		disjoint = f->in4[i].lo > f->in4[i - 1].hi;
	if (disjoint) {
		for (size_t i = 0; i < n; i++)
			emit(f, true, &cap, f->in4[i].lo, f->in4[i].hi, f->in4[i].value);
	} else {
		uint64_t *bound = xreallocarray(NULL, 2 * n, sizeof(uint64_t));
		size_t nb = 0;
		for (size_t i = 0; i < n; i++) {
			bound[nb++] = f->in4[i].lo;
			if (f->in4[i].hi < UINT32_MAX)
				bound[nb++] = (uint64_t)f->in4[i].hi + 1;
		}
		qsort(bound, nb, sizeof(uint64_t), cmp_u64);
		struct heap4 h = { f->in4, xreallocarray(NULL, n, sizeof(uint32_t)), 0 };
		size_t next = 0;
		for (size_t b = 0; b < nb; b++) {
			if (b > 0 && bound[b] == bound[b - 1])
				continue;
			uint64_t at = bound[b];
			while (next < n && f->in4[next].lo <= at)
				heap4_push(&h, (uint32_t)next++);
			while (h.n > 0 && f->in4[h.item[0]].hi < at)
				heap4_pop(&h);
			if (h.n == 0)
				continue;
			size_t e = b + 1;
			while (e < nb && bound[e] == at)
				e++;
			uint64_t end = e < nb ? bound[e] - 1 : UINT32_MAX;
			emit(f, true, &cap, at, end, f->in4[h.item[0]].value);
		}
		free(h.item);
		free(bound);
	}
	if (f->n > 0) {
		f->lo = xreallocarray(f->lo, f->n, sizeof(uint32_t));
		f->hi = xreallocarray(f->hi, f->n, sizeof(uint32_t));
		f->value = xreallocarray(f->value, f->n, sizeof(uint32_t));
	}
	free(f->in4);
	f->in4 = NULL;
	f->n_in = f->cap_in = 0;
}

void ipset_build(struct ipset *s)
{
	build4(&s->v4);
	build(&s->v6, false);
}

bool ipset_lookup4(const struct ipset *s, uint32_t ip, uint32_t *value)
{
	const struct family *f = &s->v4;
	const uint32_t *lo = f->lo, *hi = f->hi;
	size_t a = 0, b = f->n;  /* first index with lo > ip, in [a, b] */
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (lo[m] <= ip)
			a = m + 1;
		else
			b = m;
	}
	if (a == 0 || hi[a - 1] < ip)
		return false;
	if (value)
		*value = f->value[a - 1];
	return true;
}

static bool lookup6(const struct ipset *s, u128 ip, uint32_t *value)
{
	const struct family *f = &s->v6;
	const u128 *lo = f->lo, *hi = f->hi;
	size_t a = 0, b = f->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (lo[m] <= ip)
			a = m + 1;
		else
			b = m;
	}
	if (a == 0 || hi[a - 1] < ip)
		return false;
	if (value)
		*value = f->value[a - 1];
	return true;
}

bool ipset_lookup(const struct ipset *s, const struct sockaddr *sa, uint32_t *value)
{
	if (!s)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)sa;
		return ipset_lookup4(s, ntohl(v4->sin_addr.s_addr), value);
	}
	if (sa->sa_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *v6 = (const void *)sa;
	const unsigned char *b = v6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
		return ipset_lookup4(s, (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
					 (uint32_t)b[14] << 8 | b[15], value);
	return lookup6(s, from_bytes(b), value);
}

size_t ipset_ranges(const struct ipset *s)
{
	return s->v4.n + s->v6.n;
}

size_t ipset_memory(const struct ipset *s)
{
	return sizeof(*s) + s->v4.n * (2 * sizeof(uint32_t) + sizeof(uint32_t)) +
	       s->v6.n * (2 * sizeof(u128) + sizeof(uint32_t));
}
