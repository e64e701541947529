/*
 * policy/'s part of the configuration, registered with the loader as
 * policy_config_section (config/section.h): the routes: mapping (TOP-1)
 * and the address rewriting table (TOP-5) that rewrite_table names. The
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
#include "util/alloc.h"

#define ROUTES_MAX 10000
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

/* One "domain: next hop" pair into r; false (reported) if it is unusable. */
static bool load_route(struct loader *ld, struct fy_node_pair *p, const char *name, int kline,
		       struct route *r, char *rname, size_t rsize, int *rline)
{
	const char *k, *s, *why;
	size_t klen, len;
	int vline;
	bool sub, ok;

	if (!loader_key(ld, p, name, kline, &k, &klen, rline))
		return false;
	loader_key_name(rname, rsize, name, k, klen);
	sub = k[0] == '.';
	if ((why = schema_check_domain(k + sub, klen - sub)) != NULL) {
		loader_err(ld, *rline, rname, "%s", why);
		return false;
	}
	if (!loader_scalar(ld, fy_node_pair_value(p), rname, *rline, &s, &len, &vline))
		return false;
	char *spec = xstrndup(s, len);
	ok = route_parse_nexthop(spec, r, &why);
	free(spec);
	if (!ok) {
		loader_err(ld, vline, rname, "%s", why);
		return false;
	}
	r->domain = lower_dup(k + sub, klen - sub);
	r->subdomains = sub;
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
	bool empty;

	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping of domain to next hop", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_mapping_item_count(v);
	if (n > ROUTES_MAX) {
		loader_err(ld, kline, name, "more than %d entries", ROUTES_MAX);
		return;
	}
	list = xcalloc(n, sizeof(*list));
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL && count < n) {
		char rname[LOADER_NAME_SIZE];
		struct route r = { 0 };
		int rline;
		bool dup = false;

		if (!load_route(ld, p, name, kline, &r, rname, sizeof(rname), &rline))
			continue;
		for (size_t j = 0; j < count && !dup; j++)
			dup = list[j].subdomains == r.subdomains && strcmp(list[j].domain, r.domain) == 0;
		if (dup) {
			loader_err(ld, rline, rname, "duplicate route (domains compare without regard to case)");
			route_free(&r);
			continue;
		}
		list[count++] = r;
	}
	free_routes(ld->cfg->routes, ld->cfg->n_routes);
	ld->cfg->routes = list;
	ld->cfg->n_routes = count;
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
