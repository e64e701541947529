/*
 * rbldnsd ip4set parser. See zone.h.
 */
#include "scan/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/ipset.h"
#include "util/alloc.h"

/* A value is an (A, TXT) pair; entries share them through an index. */
struct zone_value {
	char a[16];
	char *txt;
};

struct zone {
	struct ipset *set;
	struct zone_value *values;   /* [0] is the default */
	size_t n_values, cap_values;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* 1 to 4 dotted decimal octets; *parts says how many were given. */
static bool parse_octets(const char **pp, const char *end, uint32_t *ip, int *parts)
{
	const char *p = *pp;
	uint32_t v = 0;
	int n = 0;
	for (;;) {
		unsigned octet = 0;
		int digits = 0;
		while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
			octet = octet * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || octet > 255)
			return false;
		v = v << 8 | octet;
		n++;
		if (n == 4 || p >= end || *p != '.')
			break;
		p++;
	}
	*ip = n == 4 ? v : v << (8 * (4 - n));
	*parts = n;
	*pp = p;
	return true;
}

static bool parse_uint(const char **pp, const char *end, unsigned max, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0;
	int digits = 0;
	while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
		v = v * 10 + (unsigned)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || digits > 3 || v > max)
		return false;
	*out = v;
	*pp = p;
	return true;
}

/* "net" part of a line: returns false on a syntax error. */
static bool parse_net(const char **pp, const char *end, uint32_t *lo, uint32_t *hi)
{
	uint32_t ip;
	int parts;
	if (!parse_octets(pp, end, &ip, &parts))
		return false;
	const char *p = *pp;
	unsigned prefix = (unsigned)parts * 8;
	if (p < end && *p == '/') {
		p++;
		if (!parse_uint(&p, end, 32, &prefix))
			return false;
		*lo = prefix == 0 ? 0 : ip & ~(uint32_t)0 << (32 - prefix);
		*hi = prefix == 0 ? UINT32_MAX : *lo | (prefix == 32 ? 0 : ~(uint32_t)0 >> prefix);
	} else if (p < end && *p == '-') {
		p++;
		if (parts != 4)
			return false;
		uint32_t to;
		int to_parts;
		if (!parse_octets(&p, end, &to, &to_parts))
			return false;
		if (to_parts == 1)  /* 1.2.3.4-10: the last octet */
			to = (ip & 0xffffff00u) | (to >> 24);
		else if (to_parts != 4)
			return false;
		if (to < ip)
			return false;
		*lo = ip;
		*hi = to;
	} else {
		*lo = ip;
		*hi = parts == 4 ? ip : ip | (~(uint32_t)0 >> prefix);
	}
	*pp = p;
	return true;
}

static uint32_t add_value(struct zone *z, const char *p, const char *end)
{
	/* ":A:TXT", ":A", or "TXT". */
	struct zone_value v = { "127.0.0.2", NULL };
	if (p < end && *p == ':') {
		p++;
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *aend = colon ? colon : end;
		uint32_t ip;
		int parts;
		const char *q = p;
		if (aend > p) {
			if (!parse_octets(&q, aend, &ip, &parts) || q != aend)
				return IPSET_EXCLUDE - 1;  /* bad A value: caller counts it */
			/* rbldnsd: "2" means 127.0.0.2 */
			if (parts == 1)
				ip = 0x7f000000u | (ip >> 24);
			else if (parts != 4)
				return IPSET_EXCLUDE - 1;
			snprintf(v.a, sizeof(v.a), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
		}
		p = colon ? colon + 1 : end;
	}
	if (p < end)
		v.txt = xstrndup(p, (size_t)(end - p));
	/* Entries in a row usually share one value: reuse the last one. */
	if (z->n_values > 1) {
		struct zone_value *last = &z->values[z->n_values - 1];
		if (strcmp(last->a, v.a) == 0 && ((!last->txt && !v.txt) ||
						  (last->txt && v.txt && strcmp(last->txt, v.txt) == 0))) {
			free(v.txt);
			return (uint32_t)(z->n_values - 1);
		}
	}
	if (z->n_values == z->cap_values) {
		z->cap_values *= 2;
		z->values = xreallocarray(z->values, z->cap_values, sizeof(*z->values));
	}
	z->values[z->n_values] = v;
	return (uint32_t)z->n_values++;
}

static bool parse_line(struct zone *z, const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p == end || *p == '#' || *p == ';' || *p == '$')
		return true;
	if (*p == ':') {  /* the default value */
		const char *q = p + 1, *colon = memchr(q, ':', (size_t)(end - q));
		uint32_t ip;
		int parts;
		const char *aend = colon ? colon : end;
		if (!parse_octets(&q, aend, &ip, &parts) || q != aend || (parts != 4 && parts != 1))
			return false;
		if (parts == 1)
			ip = 0x7f000000u | (ip >> 24);
		struct zone_value *d = &z->values[0];
		snprintf(d->a, sizeof(d->a), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
		free(d->txt);
		d->txt = colon && colon + 1 < end ? xstrndup(colon + 1, (size_t)(end - colon - 1)) : NULL;
		return true;
	}
	bool exclude = *p == '!';
	if (exclude)
		p++;
	uint32_t lo, hi;
	if (!parse_net(&p, end, &lo, &hi))
		return false;
	if (p < end && !is_space(*p) && *p != ':')
		return false;
	while (p < end && is_space(*p))
		p++;
	uint32_t value = 0;
	if (exclude)
		value = IPSET_EXCLUDE;
	else if (p < end)
		value = add_value(z, p, end);
	if (value == IPSET_EXCLUDE - 1)
		return false;
	ipset_add4(z->set, lo, hi, value);
	return true;
}

struct zone *zone_parse(const char *text, size_t len, struct zone_stats *st)
{
	struct zone *z = xcalloc(1, sizeof(*z));
	z->set = ipset_new();
	z->cap_values = 16;
	z->values = xcalloc(z->cap_values, sizeof(*z->values));
	snprintf(z->values[0].a, sizeof(z->values[0].a), "127.0.0.2");
	z->n_values = 1;
	memset(st, 0, sizeof(*st));
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		st->lines++;
		bool ok = (size_t)(eol - p) <= ZONE_LINE_MAX && !memchr(p, '\0', (size_t)(eol - p)) &&
			  parse_line(z, p, eol);
		if (!ok) {
			st->bad_lines++;
			if (!st->first_bad_line)
				st->first_bad_line = st->lines;
		}
		p = nl ? nl + 1 : end;
	}
	ipset_build(z->set);
	st->entries = ipset_ranges(z->set);
	return z;
}

void zone_free(struct zone *z)
{
	if (!z)
		return;
	ipset_free(z->set);
	for (size_t i = 0; i < z->n_values; i++)
		free(z->values[i].txt);
	free(z->values);
	free(z);
}

static bool found(const struct zone *z, uint32_t v, const char **a, const char **txt)
{
	const struct zone_value *zv = &z->values[v < z->n_values ? v : 0];
	if (a)
		*a = zv->a;
	if (txt)
		*txt = zv->txt ? zv->txt : z->values[0].txt;
	return true;
}

bool zone_lookup(const struct zone *z, const struct sockaddr *sa, const char **a, const char **txt)
{
	uint32_t v;
	return z && ipset_lookup(z->set, sa, &v) && found(z, v, a, txt);
}

bool zone_lookup4(const struct zone *z, uint32_t ip, const char **a, const char **txt)
{
	uint32_t v;
	return z && ipset_lookup4(z->set, ip, &v) && found(z, v, a, txt);
}

size_t zone_memory(const struct zone *z)
{
	size_t n = sizeof(*z) + ipset_memory(z->set) + z->cap_values * sizeof(*z->values);
	for (size_t i = 0; i < z->n_values; i++)
		n += z->values[i].txt ? strlen(z->values[i].txt) + 1 : 0;
	return n;
}

size_t zone_ranges(const struct zone *z)
{
	return ipset_ranges(z->set);
}
