/*
 * The address rewriting table. See rewrite.h for the format and contract.
 */
#include "policy/rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "util/alloc.h"

/* A table side: "local@domain" or "@domain". The local part is what an
 * RFC 5321 dot-string or UTF-8 mailbox may hold, minus anything that would
 * need quoting (no spaces, no controls, no <>, no second '@'). */
static const char *side_check(const char *s, size_t len, bool *domain_only)
{
	const char *at = memchr(s, '@', len);
	if (!at)
		return "not an address (user@domain or @domain)";
	size_t local = (size_t)(at - s);
	*domain_only = local == 0;
	if (local > 64)
		return "local part longer than 64 bytes";
	for (size_t i = 0; i < local; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' || c == ',')
			return "local part holds a character that needs quoting";
	}
	if (local > 0 && (s[0] == '.' || s[local - 1] == '.'))
		return "local part starts or ends with '.'";
	const char *why = schema_check_domain(at + 1, len - local - 1);
	return why;
}

static char *side_dup(const char *s, size_t len)
{
	char *d = xstrndup(s, len);
	char *at = strchr(d, '@');
	for (char *p = at; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

static const struct rewrite_rule *find_rule(const struct rewrite *rw, const char *key)
{
	for (size_t i = 0; i < rw->n; i++)
		if (strcmp(rw->rules[i].from, key) == 0)
			return &rw->rules[i];
	return NULL;
}

/* One step: the address rule, else the domain rule. Returns malloc'ed or NULL. */
static char *rewrite_step(const struct rewrite *rw, const char *addr)
{
	const char *at = strrchr(addr, '@');
	if (!at || at == addr)
		return NULL;
	char *key = side_dup(addr, strlen(addr));
	const struct rewrite_rule *r = find_rule(rw, key);
	char *out = NULL;
	if (r) {
		if (r->to[0] == '@') {   /* cannot happen: refused at load */
			free(key);
			return NULL;
		}
		out = xstrdup(r->to);
	} else if ((r = find_rule(rw, strrchr(key, '@'))) != NULL) {
		size_t local = (size_t)(at - addr), n = local + strlen(r->to) + 1;
		out = xmalloc(n);
		if (r->to[0] == '@')
			snprintf(out, n, "%.*s%s", (int)local, addr, r->to);
		else
			snprintf(out, n, "%s", r->to);
	}
	free(key);
	return out;
}

char *rewrite_apply(const struct rewrite *rw, const char *addr)
{
	if (!rw || rw->n == 0 || !addr[0])
		return NULL;
	char *cur = NULL;
	for (int depth = 0; depth <= REWRITE_DEPTH_MAX; depth++) {
		char *next = rewrite_step(rw, cur ? cur : addr);
		if (!next)
			return cur;
		if (strcmp(next, cur ? cur : addr) == 0) {  /* a rule mapping onto itself */
			free(next);
			return cur;
		}
		free(cur);
		cur = next;
	}
	free(cur);  /* a loop: leave the address alone */
	return NULL;
}

/* problem, then detail (may be NULL) appended after a space. */
static void report(void (*err)(void *, unsigned, const char *), void *arg, unsigned line,
		   const char *problem, const char *detail, bool *bad)
{
	char text[400];
	snprintf(text, sizeof(text), "%s%s%s", problem, detail ? " " : "", detail ? detail : "");
	err(arg, line, text);
	*bad = true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

struct rewrite *rewrite_parse(const char *text, size_t len,
			      void (*err)(void *arg, unsigned line, const char *problem), void *arg)
{
	struct rewrite *rw = xcalloc(1, sizeof(*rw));
	bool bad = false;
	unsigned line = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *l = text + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		pos += n + (nl ? 1 : 0);
		line++;
		if (n > REWRITE_LINE_MAX) {
			report(err, arg, line, "line longer than 1024 bytes", NULL, &bad);
			continue;
		}
		if (memchr(l, '\0', n)) {
			report(err, arg, line, "NUL byte in line", NULL, &bad);
			continue;
		}
		const char *hash = memchr(l, '#', n);
		if (hash)
			n = (size_t)(hash - l);
		while (n > 0 && (is_space(l[n - 1]) || l[n - 1] == '\r'))
			n--;
		size_t i = 0;
		while (i < n && is_space(l[i]))
			i++;
		if (i == n)
			continue;
		/* up to three words: FROM [->] TO */
		const char *w[4];
		size_t wl[4], nw = 0;
		while (i < n && nw < 4) {
			w[nw] = l + i;
			while (i < n && !is_space(l[i]))
				i++;
			wl[nw] = (size_t)(l + i - w[nw]);
			nw++;
			while (i < n && is_space(l[i]))
				i++;
		}
		if (nw == 3 && wl[1] == 2 && memcmp(w[1], "->", 2) == 0) {
			w[1] = w[2];
			wl[1] = wl[2];
			nw = 2;
		}
		if (nw != 2 || i < n) {
			report(err, arg, line, "expected: FROM -> TO", NULL, &bad);
			continue;
		}
		bool from_dom, to_dom;
		const char *why = side_check(w[0], wl[0], &from_dom);
		if (!why)
			why = side_check(w[1], wl[1], &to_dom);
		if (why) {
			report(err, arg, line, why, NULL, &bad);
			continue;
		}
		if (to_dom && !from_dom) {
			report(err, arg, line, "an address cannot be rewritten to a whole domain", NULL, &bad);
			continue;
		}
		char *from = side_dup(w[0], wl[0]);
		if (find_rule(rw, from)) {
			report(err, arg, line, "duplicate rule for", from, &bad);
			free(from);
			continue;
		}
		if (rw->n >= REWRITE_RULES_MAX) {
			report(err, arg, line, "more than 100000 rules", NULL, &bad);
			free(from);
			break;
		}
		rw->rules = xreallocarray(rw->rules, rw->n + 1, sizeof(*rw->rules));
		rw->rules[rw->n++] = (struct rewrite_rule){ .from = from, .to = side_dup(w[1], wl[1]), .line = line };
	}
	/* Loops: follow each rule's target through the table. */
	for (size_t k = 0; k < rw->n && !bad; k++) {
		const struct rewrite_rule *r = &rw->rules[k];
		if (r->to[0] == '@')
			continue;  /* domain rules are checked through the addresses they touch */
		char *cur = xstrdup(r->to);
		int depth = 0;
		char *next;
		while ((next = rewrite_step(rw, cur)) != NULL && strcmp(next, cur) != 0 && depth < REWRITE_DEPTH_MAX + 1) {
			free(cur);
			cur = next;
			depth++;
		}
		free(next);
		free(cur);
		if (depth > REWRITE_DEPTH_MAX)
			report(err, arg, r->line, "rewriting loops (or chains more than 10 times):", r->from, &bad);
	}
	for (size_t k = 0; k < rw->n && !bad; k++) {
		const struct rewrite_rule *r = &rw->rules[k];
		if (r->to[0] != '@')
			continue;
		/* @a -> @b: probe with a local part no address rule uses. */
		char probe[300];
		snprintf(probe, sizeof(probe), "\x01%s", r->from);
		probe[0] = 'x';
		char *cur = xstrdup(probe);
		int depth = 0;
		char *next;
		while ((next = rewrite_step(rw, cur)) != NULL && strcmp(next, cur) != 0 && depth < REWRITE_DEPTH_MAX + 1) {
			free(cur);
			cur = next;
			depth++;
		}
		free(next);
		free(cur);
		if (depth > REWRITE_DEPTH_MAX)
			report(err, arg, r->line, "rewriting loops (or chains more than 10 times):", r->from, &bad);
	}
	if (bad) {
		rewrite_free(rw);
		return NULL;
	}
	return rw;
}

void rewrite_free(struct rewrite *rw)
{
	if (!rw)
		return;
	for (size_t i = 0; i < rw->n; i++) {
		free(rw->rules[i].from);
		free(rw->rules[i].to);
	}
	free(rw->rules);
	free(rw);
}
