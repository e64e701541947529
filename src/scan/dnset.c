/*
 * rbldnsd dnset parser and lookup. See dnset.h.
 */
#include "scan/dnset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

enum dnset_kind {
	DNSET_EXACT = 1,   /* the name itself */
	DNSET_SUB = 2,     /* its subdomains */
};

struct dnset_entry {
	uint32_t name;     /* offset into the arena: lower case, no trailing dot */
	uint32_t value;    /* index into values; UINT32_MAX: exclusion */
	uint8_t kind;      /* DNSET_EXACT | DNSET_SUB */
	uint32_t seq;      /* later lines win over earlier duplicates */
};

struct dnset_value {
	char a[16];
	char *txt;
};

struct dnset {
	char *arena;
	size_t arena_len, arena_cap;
	struct dnset_entry *e;
	size_t n, cap;
	struct dnset_value *values;
	size_t n_values, cap_values;
};

#define EXCLUDED UINT32_MAX
#define BAD_VALUE (UINT32_MAX - 1)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* An A value "127.0.0.2" or "2" (= 127.0.0.2). */
static bool parse_a(const char *p, const char *end, char out[16])
{
	unsigned o[4], n = 0;
	while (n < 4) {
		unsigned v = 0, digits = 0;
		while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		o[n++] = v;
		if (p == end)
			break;
		if (*p++ != '.')
			return false;
	}
	if (p != end || (n != 1 && n != 4))
		return false;
	if (n == 1)
		snprintf(out, 16, "127.0.0.%u", o[0]);
	else
		snprintf(out, 16, "%u.%u.%u.%u", o[0], o[1], o[2], o[3]);
	return true;
}

static uint32_t add_value(struct dnset *d, const char *p, const char *end)
{
	struct dnset_value v = { "127.0.0.2", NULL };
	if (p < end && *p == ':') {
		p++;
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *aend = colon ? colon : end;
		if (aend > p && !parse_a(p, aend, v.a))
			return BAD_VALUE;
		p = colon ? colon + 1 : end;
	}
	if (p < end)
		v.txt = xstrndup(p, (size_t)(end - p));
	struct dnset_value *last = &d->values[d->n_values - 1];
	if (d->n_values > 1 && strcmp(last->a, v.a) == 0 &&
	    ((!last->txt && !v.txt) || (last->txt && v.txt && strcmp(last->txt, v.txt) == 0))) {
		free(v.txt);
		return (uint32_t)(d->n_values - 1);
	}
	if (d->n_values == d->cap_values) {
		d->cap_values *= 2;
		d->values = xreallocarray(d->values, d->cap_values, sizeof(*d->values));
	}
	d->values[d->n_values] = v;
	return (uint32_t)d->n_values++;
}

static uint32_t arena_add(struct dnset *d, const char *p, size_t len)
{
	if (d->arena_len + len + 1 > d->arena_cap) {
		d->arena_cap = (d->arena_len + len + 1) * 2;
		d->arena = xreallocarray(d->arena, d->arena_cap, 1);
	}
	uint32_t off = (uint32_t)d->arena_len;
	for (size_t i = 0; i < len; i++)
		d->arena[off + i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
	d->arena[off + len] = '\0';
	d->arena_len += len + 1;
	return off;
}

static bool parse_line(struct dnset *d, const char *p, const char *end, uint32_t seq)
{
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p == end || *p == '#' || *p == ';' || *p == '$')
		return true;
	if (*p == ':') {
		const char *q = p + 1, *colon = memchr(q, ':', (size_t)(end - q));
		struct dnset_value *def = &d->values[0];
		if (!parse_a(q, colon ? colon : end, def->a))
			return false;
		free(def->txt);
		def->txt = colon && colon + 1 < end ? xstrndup(colon + 1, (size_t)(end - colon - 1)) : NULL;
		return true;
	}
	bool exclude = *p == '!';
	p += exclude;
	uint8_t kind = DNSET_EXACT;
	if (end - p >= 2 && p[0] == '*' && p[1] == '.') {
		kind = DNSET_SUB;
		p += 2;
	} else if (p < end && *p == '.') {
		kind = DNSET_EXACT | DNSET_SUB;
		p++;
	}
	const char *name = p;
	size_t label = 0;
	while (p < end && !is_space(*p) && *p != ':') {
		char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
		if (c == '.') {
			if (label == 0 || p[-1] == '-')
				return false;  /* empty label, or one ending in '-' */
			label = 0;
		} else if (!label_char(c) || ++label > 63 || (c == '-' && label == 1)) {
			return false;
		}
		p++;
	}
	if (p > name && p[-1] == '-')
		return false;
	size_t len = (size_t)(p - name);
	if (len > 0 && name[len - 1] == '.')
		len--;  /* trailing root dot */
	if (len == 0 || len > 253 || name[len - 1] == '.')
		return false;
	while (p < end && is_space(*p))
		p++;
	uint32_t value = exclude ? EXCLUDED : p < end ? add_value(d, p, end) : 0;
	if (value == BAD_VALUE)
		return false;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->e = xreallocarray(d->e, d->cap, sizeof(*d->e));
	}
	d->e[d->n++] = (struct dnset_entry){ arena_add(d, name, len), value, kind, seq };
	return true;
}

static int by_name(const void *a, const void *b, void *arg)
{
	const struct dnset *d = arg;
	const struct dnset_entry *x = a, *y = b;
	int c = strcmp(d->arena + x->name, d->arena + y->name);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct dnset *dnset_parse(const char *text, size_t len, struct zone_stats *st)
{
	struct dnset *d = xcalloc(1, sizeof(*d));
	d->cap_values = 16;
	d->values = xcalloc(d->cap_values, sizeof(*d->values));
	snprintf(d->values[0].a, sizeof(d->values[0].a), "127.0.0.2");
	d->n_values = 1;
	memset(st, 0, sizeof(*st));
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		st->lines++;
		bool ok = (size_t)(eol - p) <= ZONE_LINE_MAX && !memchr(p, '\0', (size_t)(eol - p)) &&
			  d->arena_len < UINT32_MAX / 2 && parse_line(d, p, eol, (uint32_t)st->lines);
		if (!ok) {
			st->bad_lines++;
			if (!st->first_bad_line)
				st->first_bad_line = st->lines;
		}
		p = nl ? nl + 1 : end;
	}
	if (d->n)
		qsort_r(d->e, d->n, sizeof(*d->e), by_name, d);  /* by name, then line */
	st->entries = d->n;
	return d;
}

/* The latest entry named exactly name (len bytes) with one of the kind
 * bits, or NULL. */
/* strcmp of an arena name against key (len bytes, not terminated). */
static int cmp_key(const char *n, const char *key, size_t len)
{
	int c = strncmp(n, key, len);
	if (c)
		return c;
	return n[len] != '\0';  /* n is longer: it sorts after key */
}

/* The latest entry named exactly key (len bytes) with one of the kind
 * bits, or NULL. */
static const struct dnset_entry *find(const struct dnset *d, const char *key, size_t len, uint8_t kind)
{
	size_t a = 0, b = d->n;
	while (a < b) {  /* the first entry not before key */
		size_t m = a + (b - a) / 2;
		if (cmp_key(d->arena + d->e[m].name, key, len) < 0)
			a = m + 1;
		else
			b = m;
	}
	const struct dnset_entry *best = NULL;
	for (size_t i = a; i < d->n && cmp_key(d->arena + d->e[i].name, key, len) == 0; i++)
		if (d->e[i].kind & kind)
			best = &d->e[i];  /* sorted by line: the last one wins */
	return best;
}

bool dnset_lookup(const struct dnset *d, const char *name, const char **a, const char **txt)
{
	char key[256];
	size_t len = strlen(name);
	if (!d || len == 0 || len >= sizeof(key))
		return false;
	for (size_t i = 0; i < len; i++)
		key[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
	if (key[len - 1] == '.')
		len--;
	key[len] = '\0';
	const struct dnset_entry *hit = find(d, key, len, DNSET_EXACT);
	for (const char *dot = memchr(key, '.', len); !hit && dot; dot = memchr(dot + 1, '.', len - (size_t)(dot + 1 - key)))
		hit = find(d, dot + 1, len - (size_t)(dot + 1 - key), DNSET_SUB);
	if (!hit || hit->value == EXCLUDED)
		return false;
	const struct dnset_value *v = &d->values[hit->value < d->n_values ? hit->value : 0];
	if (a)
		*a = v->a;
	if (txt)
		*txt = v->txt ? v->txt : d->values[0].txt;
	return true;
}

void dnset_free(struct dnset *d)
{
	if (!d)
		return;
	free(d->arena);
	free(d->e);
	for (size_t i = 0; i < d->n_values; i++)
		free(d->values[i].txt);
	free(d->values);
	free(d);
}

size_t dnset_entries(const struct dnset *d)
{
	return d->n;
}

size_t dnset_memory(const struct dnset *d)
{
	size_t n = sizeof(*d) + d->arena_cap + d->cap * sizeof(*d->e) + d->cap_values * sizeof(*d->values);
	for (size_t i = 0; i < d->n_values; i++)
		n += d->values[i].txt ? strlen(d->values[i].txt) + 1 : 0;
	return n;
}
