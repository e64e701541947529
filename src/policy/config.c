/*
 * policy/'s part of the configuration, registered with the loader as
 * policy_config_section and tls_policy_config_section (config/section.h):
 * the routes: mapping (TOP-1), the tls_policy: mapping (outbound TLS per
 * destination domain, TLS-7; policy/tlspolicy.c looks it up) and the
 * address rewriting table (TOP-5) that rewrite_table names. The
 * key itself stays in the schema table; the table is parsed here, where
 * rewriting rules are understood. (queue.smart_host, a next hop too, is
 * parsed by its owner, queue/config.c, with route_parse_nexthop().)
 *
 * Runs in the master, before the privilege drop; reads one file (the
 * rewriting table), so that check-config reports its errors and the queue
 * gets the rules with its snapshot.
 */
#include "policy/route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/loader.h"
#include "config/schema.h"
#include "config/section.h"
#include "policy/rewrite.h"
#include "policy/tlspolicy.h"
#include "util/alloc.h"

#define DOMAIN_MAP_MAX 10000  /* entries of routes:, tls_policy: */
#define REWRITE_TABLE_MAX (64u << 20)

static void free_routes(struct route *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		route_free(&r[i]);
	free(r);
}

static char *lower_dup(const char *s, size_t len)
{
	char *d = xstrndup(s, len);
	for (char *p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* One pair of a mapping keyed by domain (routes:, tls_policy:). */
struct domain_pair {
	char name[LOADER_NAME_SIZE];  /* "routes.example.org", for messages */
	int line;                     /* of the key */
	const char *domain;           /* the key without its leading dot */
	size_t dlen;
	bool subdomains;              /* the key was ".domain": every subdomain */
	const char *value;            /* the scalar value, vlen bytes, on vline */
	size_t vlen;
	int vline;
};

/* The number of pairs of a mapping keyed by domain (routes:, tls_policy:;
 * expected names it in the message when v is something else), at most
 * DOMAIN_MAP_MAX. false: reported, leave the old value. */
static bool domain_map_size(struct loader *ld, struct fy_node *v, const char *name, int kline,
			    const char *expected, size_t *n)
{
	bool empty;

	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, expected, &empty))
		return false;
	*n = empty ? 0 : (size_t)fy_node_mapping_item_count(v);
	if (*n > DOMAIN_MAP_MAX) {
		loader_err(ld, kline, name, "more than %d entries", DOMAIN_MAP_MAX);
		return false;
	}
	return true;
}

/* Read pair p of the mapping name into *e: a key that is a domain name,
 * optionally with a leading dot, and a scalar value. false: reported,
 * skip the pair. */
static bool domain_pair(struct loader *ld, struct fy_node_pair *p, const char *name, int kline,
			struct domain_pair *e)
{
	const char *k, *why;
	size_t klen;

	if (!loader_key(ld, p, name, kline, &k, &klen, &e->line))
		return false;
	loader_key_name(e->name, sizeof(e->name), name, k, klen);
	e->subdomains = k[0] == '.';
	e->domain = k + e->subdomains;
	e->dlen = klen - e->subdomains;
	if ((why = schema_check_domain(e->domain, e->dlen)) != NULL) {
		loader_err(ld, e->line, e->name, "%s", why);
		return false;
	}
	return loader_scalar(ld, fy_node_pair_value(p), e->name, e->line, &e->value, &e->vlen, &e->vline);
}

/* One "domain: next hop" pair into r; false (reported) if it is unusable. */
static bool load_route(struct loader *ld, const struct domain_pair *e, struct route *r)
{
	const char *why;
	char *spec = xstrndup(e->value, e->vlen);
	bool ok = route_parse_nexthop(spec, r, &why);

	free(spec);
	if (!ok) {
		loader_err(ld, e->vline, e->name, "%s", why);
		return false;
	}
	r->domain = lower_dup(e->domain, e->dlen);
	r->subdomains = e->subdomains;
	return true;
}

/* routes: "domain" or ".domain" (every subdomain) -> next hop; replaces
 * the routes there were. */
static void load_routes(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct fy_node_pair *p;
	struct route *list;
	void *it = NULL;
	size_t n, count = 0;

	if (!domain_map_size(ld, v, name, kline, "a mapping of domain to next hop", &n))
		return;
	list = xcalloc(n, sizeof(*list));
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL && count < n) {
		struct domain_pair e;
		struct route r = { 0 };
		bool dup = false;

		if (!domain_pair(ld, p, name, kline, &e) || !load_route(ld, &e, &r))
			continue;
		for (size_t j = 0; j < count && !dup; j++)
			dup = list[j].subdomains == r.subdomains && strcmp(list[j].domain, r.domain) == 0;
		if (dup) {
			loader_err(ld, e.line, e.name, "duplicate route (domains compare without regard to case)");
			route_free(&r);
			continue;
		}
		list[count++] = r;
	}
	free_routes(ld->cfg->routes, ld->cfg->n_routes);
	ld->cfg->routes = list;
	ld->cfg->n_routes = count;
}

static void free_tls_policy(struct tls_policy_cfg *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].domain);
	free(p);
}

/* One "domain: LEVEL [TLSv1.2|TLSv1.3]" pair into t; false (reported) if
 * it is unusable. */
static bool load_tls_entry(struct loader *ld, const struct domain_pair *e, struct tls_policy_cfg *t)
{
	static const struct { const char *name; enum tls_level level; } levels[] = {
		{ "none", TLS_LEVEL_NONE }, { "may", TLS_LEVEL_MAY },
		{ "encrypt", TLS_LEVEL_ENCRYPT }, { "verify", TLS_LEVEL_VERIFY },
	};
	const char *s = e->value;
	size_t len = e->vlen, wlen = 0;
	bool level_ok = false;

	while (wlen < len && s[wlen] != ' ')
		wlen++;
	*t = (struct tls_policy_cfg){ .subdomains = e->subdomains };
	for (size_t j = 0; j < sizeof(levels) / sizeof(levels[0]); j++)
		if (loader_text_is(s, wlen, levels[j].name)) {
			t->level = levels[j].level;
			level_ok = true;
		}
	const char *ver = s + wlen + (wlen < len);
	size_t vlen = len - (size_t)(ver - s);
	if (vlen == 0)
		t->min_version = 0;
	else if (loader_text_is(ver, vlen, "TLSv1.2"))
		t->min_version = CONFIG_TLS_1_2;
	else if (loader_text_is(ver, vlen, "TLSv1.3"))
		t->min_version = CONFIG_TLS_1_3;
	else
		level_ok = false;
	if (!level_ok) {
		loader_err(ld, e->vline, e->name, "must be none, may, encrypt or verify, "
			   "optionally followed by TLSv1.2 or TLSv1.3");
		return false;
	}
	t->domain = lower_dup(e->domain, e->dlen);
	return true;
}

/* tls_policy: "domain" or ".domain" -> "LEVEL [TLSv1.2|TLSv1.3]" (TLS-7);
 * replaces the policy there was. */
static void load_tls_policy(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct fy_node_pair *p;
	void *it = NULL;
	size_t n, count = 0;

	if (!domain_map_size(ld, v, name, kline, "a mapping of domain to TLS level", &n))
		return;
	struct tls_policy_cfg *list = xcalloc(n ? n : 1, sizeof(*list));
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL && count < n) {
		struct domain_pair e;

		if (domain_pair(ld, p, name, kline, &e) && load_tls_entry(ld, &e, &list[count]))
			count++;
	}
	free_tls_policy(ld->cfg->tls_policy, ld->cfg->n_tls_policy);
	ld->cfg->tls_policy = list;
	ld->cfg->n_tls_policy = count;
}

static void tls_policy_release(struct config *c)
{
	free_tls_policy(c->tls_policy, c->n_tls_policy);
	c->tls_policy = NULL;
	c->n_tls_policy = 0;
}

struct table_err {
	struct loader *ld;
	const char *file;
};

static void rewrite_err(void *arg, unsigned line, const char *problem)
{
	struct table_err *t = arg;
	config_errors_add(t->ld->errs, "%s:%u: rewrite_table: %s", t->file, line, problem);
}

static void load_rewrite_table(struct loader *ld, const char *path)
{
	struct config *c = ld->cfg;
	if (!c->rewrite_table)
		return;
	loader_resolve_path(ld, path, &c->rewrite_table, "rewrite_table");
	FILE *f = fopen(c->rewrite_table, "re");
	if (!f) {
		loader_err(ld, loader_set_line(ld, "rewrite_table"), "rewrite_table", "cannot read %s: %s",
			   c->rewrite_table, strerror(errno));
		return;
	}
	size_t cap = 1 << 16, len = 0;
	char *text = xmalloc(cap);
	size_t n;
	while ((n = fread(text + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			if (cap >= REWRITE_TABLE_MAX) {
				config_errors_add(ld->errs, "%s: rewrite_table: %s is larger than 64M", ld->file,
						  c->rewrite_table);
				free(text);
				fclose(f);
				return;
			}
			cap *= 2;
			text = xreallocarray(text, cap, 1);
		}
	}
	fclose(f);
	struct table_err t = { ld, c->rewrite_table };
	c->rewrite = rewrite_parse(text, len, rewrite_err, &t);
	free(text);
}

static void policy_release(struct config *c)
{
	free_routes(c->routes, c->n_routes);
	c->routes = NULL;
	c->n_routes = 0;
	rewrite_free(c->rewrite);
	c->rewrite = NULL;
}

/* REL-1/TOP-1: a local domain without a route has its recipients refused. */
static void policy_warn(const struct config *c, struct config_errors *out)
{
	for (size_t i = 0; i < c->n_local_domains; i++) {
		const char *d = c->local_domains[i];
		/* For a ".domain" tree, "*.domain" stands for any subdomain: no
		 * route key can name it exactly, so only a tree route matches. */
		char probe[300];
		snprintf(probe, sizeof(probe), "%s%s", d[0] == '.' ? "*" : "", d);
		if (!route_lookup(c->routes, c->n_routes, probe, strlen(probe)))
			config_errors_add(out, "%s: warning: local domain %s has no route: its recipients are "
					  "refused at RCPT (554 5.4.4)", c->source, d);
	}
}

const struct config_section policy_config_section = {
	.key = "routes",
	.load_value = load_routes,
	.finish = load_rewrite_table,
	.release = policy_release,
	.warn = policy_warn,
};

const struct config_section tls_policy_config_section = {
	.key = "tls_policy",
	.load_value = load_tls_policy,
	.release = tls_policy_release,
};
