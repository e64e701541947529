/*
 * The configuration loader: YAML (libfyaml) into one struct config.
 *
 * Runs in the master, before the privilege drop and before any child is
 * forked; it may block (it reads one file). The embedded default is
 * loaded first, then the user's file overrides the keys it sets: a scalar
 * replaces the default's value, a list or mapping of entries (listeners,
 * local_domains, trusted_networks, routes) replaces the default's whole
 * list. Scalar keys come from the schema table (schema.c); the four
 * collections are parsed here.
 *
 * Every problem is reported, as "file:line: key: problem", and loading
 * goes on after an error so that one run shows them all. Text from the
 * file is escaped before it is quoted in a message: a configuration
 * error must not be able to write control sequences to a terminal.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfyaml.h>

#include "config/schema.h"
#include "util/alloc.h"

#define CONFIG_FILE_MAX (1024 * 1024)  /* a configuration is a few KiB; refuse anything huge */
#define SHOW_MAX 64                    /* bytes of file text quoted in a message */
#define SHOW_SIZE (SHOW_MAX * 4 + 4)   /* worst case: every byte as \xNN, plus "..." */
#define NAME_SIZE 512                  /* a dotted key name for messages */
#define LISTENERS_MAX 32
#define LIST_MAX 10000                 /* entries in local_domains, trusted_networks, routes */

struct loader {
	struct config *cfg;
	struct config_errors *errs;
	const char *file;  /* name used in messages */
	int *set_line;     /* per schema key: line in the user's file that set it, 0 if none */
	bool user;         /* reading the user's file rather than the embedded default */
};

/* ---- messages ---------------------------------------------------------- */

void config_errors_add(struct config_errors *e, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *s;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	s = xmalloc((size_t)n + 1);
	if (vsnprintf(s, (size_t)n + 1, fmt, ap2) < 0)
		s[0] = '\0';
	va_end(ap2);
	e->items = xreallocarray(e->items, e->n + 1, sizeof(*e->items));
	e->items[e->n++] = s;
}

void config_errors_free(struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->items[i]);
	free(e->items);
	e->items = NULL;
	e->n = 0;
}

/* Text from the file, made safe to print: printable ASCII as is, every
 * other byte as \xNN, cut after SHOW_MAX bytes with "...". */
static void show(char *out, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len && i < SHOW_MAX && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (len > SHOW_MAX && o + 4 <= size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* "prefix.key" (or "key") with the key escaped, for messages. */
static void key_name(char *out, size_t size, const char *prefix, const char *k, size_t klen)
{
	char shown[SHOW_SIZE];

	show(shown, sizeof(shown), k, klen);
	snprintf(out, size, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", shown);
}

__attribute__((format(printf, 4, 5)))
static void err(struct loader *ld, int line, const char *key, const char *fmt, ...)
{
	char problem[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	if (line > 0)
		config_errors_add(ld->errs, "%s:%d: %s: %s", ld->file, line, key, problem);
	else
		config_errors_add(ld->errs, "%s: %s: %s", ld->file, key, problem);
}

/* ---- nodes ------------------------------------------------------------- */

/* The 1-based line where a node starts: a scalar's own token, a
 * collection's first entry; fallback when the node has no position
 * (an empty value or an empty collection). */
static int node_line(struct fy_node *n, int fallback)
{
	void *it = NULL;

	if (!n)
		return fallback;
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR: {
		struct fy_token *t = fy_node_get_scalar_token(n);
		const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
		return m ? m->line + 1 : fallback;
	}
	case FYNT_MAPPING: {
		struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
		return p ? node_line(fy_node_pair_key(p), node_line(fy_node_pair_value(p), fallback)) : fallback;
	}
	case FYNT_SEQUENCE:
		return node_line(fy_node_sequence_iterate(n, &it), fallback);
	}
	return fallback;
}

static bool text_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* An empty value, or a plain "~" / "null" (YAML's spellings of null). */
static bool node_is_null(struct fy_node *n)
{
	size_t len;
	const char *s;

	if (!n || fy_node_is_null(n))
		return true;
	if (!fy_node_is_scalar(n) || fy_node_is_alias(n) || fy_node_get_style(n) != FYNS_PLAIN)
		return false;
	s = fy_node_get_scalar(n, &len);
	return !s || len == 0 || text_is(s, len, "~") || text_is(s, len, "null") ||
	       text_is(s, len, "Null") || text_is(s, len, "NULL");
}

/*
 * The text of a scalar value. Reports and returns false for a missing
 * value, an alias (refused: no expansion tricks), a collection, or a NUL
 * byte (it would cut C strings short behind the check).
 */
static bool scalar_value(struct loader *ld, struct fy_node *v, const char *name, int kline,
			 const char **s, size_t *len, int *line)
{
	*line = node_line(v, kline);
	if (node_is_null(v)) {
		err(ld, kline, name, "missing value");
		return false;
	}
	if (fy_node_is_alias(v)) {
		err(ld, *line, name, "aliases are not supported");
		return false;
	}
	if (fy_node_is_mapping(v)) {
		err(ld, kline, name, "expected a single value, not a mapping");
		return false;
	}
	if (fy_node_is_sequence(v)) {
		err(ld, kline, name, "expected a single value, not a list");
		return false;
	}
	*s = fy_node_get_scalar(v, len);
	if (!*s) {
		err(ld, kline, name, "missing value");
		return false;
	}
	if (memchr(*s, '\0', *len)) {
		err(ld, *line, name, "contains a NUL byte");
		return false;
	}
	return true;
}

/* Is v a collection of the given type? An empty value counts as an empty
 * collection (*empty set). Reports the mismatch otherwise. */
static bool expect_collection(struct loader *ld, struct fy_node *v, enum fy_node_type type,
			      const char *name, int kline, const char *what, bool *empty)
{
	*empty = false;
	if (node_is_null(v)) {
		*empty = true;
		return true;
	}
	if (fy_node_is_alias(v)) {
		err(ld, kline, name, "aliases are not supported");
		return false;
	}
	if (fy_node_get_type(v) != type) {
		err(ld, kline, name, "expected %s", what);
		return false;
	}
	return true;
}

/* The key of a mapping pair: a non-empty scalar, not an alias. */
static bool pair_key(struct loader *ld, struct fy_node_pair *p, const char *prefix, int fallback,
		     const char **k, size_t *klen, int *kline)
{
	struct fy_node *kn = fy_node_pair_key(p);

	*kline = node_line(kn, node_line(fy_node_pair_value(p), fallback));
	if (node_is_null(kn) || !fy_node_is_scalar(kn) || fy_node_is_alias(kn) ||
	    (*k = fy_node_get_scalar(kn, klen)) == NULL || *klen == 0) {
		err(ld, *kline, prefix ? prefix : "(top level)", "keys must be plain names");
		return false;
	}
	return true;
}

/* Keys of the schema are lower-case words; anything else is unknown. */
static bool key_is_word(const char *k, size_t len)
{
	if (len == 0 || len > SHOW_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return false;
	return true;
}

static char *lower_dup(const char *s, size_t len)
{
	char *d = xstrndup(s, len);
	for (char *p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* ---- collections ------------------------------------------------------- */

static void listeners_free(struct listener_cfg *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].name);
		free(l[i].address);
	}
	free(l);
}

static bool listener_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

struct bound_addr {
	bool ok;
	int family;
	unsigned char bin[16];
};

/* One listeners[i] entry: { name, address, port }, all required. */
static void load_listener(struct loader *ld, struct fy_node *item, size_t i, int iline,
			  struct listener_cfg *all, struct bound_addr *addrs)
{
	struct listener_cfg *l = &all[i];
	struct fy_node_pair *p;
	void *it = NULL;
	char iname[64], name[NAME_SIZE];
	bool have_name = false, have_address = false, have_port = false, addr_ok = false, port_ok = false;

	snprintf(iname, sizeof(iname), "listeners[%zu]", i);
	if (!fy_node_is_mapping(item) || fy_node_is_alias(item)) {
		err(ld, iline, iname, "expected a mapping with name, address and port");
		return;
	}
	while ((p = fy_node_mapping_iterate(item, &it)) != NULL) {
		struct fy_node *v = fy_node_pair_value(p);
		const char *k, *s;
		size_t klen, len;
		int kline, vline;

		if (!pair_key(ld, p, iname, iline, &k, &klen, &kline))
			continue;
		key_name(name, sizeof(name), iname, k, klen);
		if (text_is(k, klen, "name")) {
			have_name = true;
			if (!scalar_value(ld, v, name, kline, &s, &len, &vline))
				continue;
			if (!listener_name_valid(s, len)) {
				err(ld, vline, name, "bad name (1 to 32 of a-z, 0-9, '_' and '-')");
				continue;
			}
			for (size_t j = 0; j < i; j++) {
				if (all[j].name && text_is(s, len, all[j].name)) {
					err(ld, vline, name, "duplicate listener name %s (also listeners[%zu])", all[j].name, j);
					break;
				}
			}
			l->name = xstrndup(s, len);
		} else if (text_is(k, klen, "address")) {
			char buf[INET6_ADDRSTRLEN];
			struct bound_addr *a = &addrs[i];

			have_address = true;
			if (!scalar_value(ld, v, name, kline, &s, &len, &vline))
				continue;
			if (len < sizeof(buf)) {
				memcpy(buf, s, len);
				buf[len] = '\0';
				if (inet_pton(AF_INET, buf, a->bin) == 1) {
					a->family = AF_INET;
					addr_ok = true;
				} else if (inet_pton(AF_INET6, buf, a->bin) == 1) {
					a->family = AF_INET6;
					addr_ok = true;
				}
			}
			if (!addr_ok) {
				err(ld, vline, name, "not a numeric IPv4 or IPv6 address");
				continue;
			}
			l->address = xstrndup(s, len);
		} else if (text_is(k, klen, "port")) {
			unsigned long long port;
			bool overflow;

			have_port = true;
			if (!scalar_value(ld, v, name, kline, &s, &len, &vline))
				continue;
			if (!schema_parse_number(s, len, &port, &overflow) && !overflow) {
				err(ld, vline, name, "not a number (use decimal digits)");
				continue;
			}
			if (overflow || port < 1 || port > 65535) {
				err(ld, vline, name, "must be between 1 and 65535");
				continue;
			}
			l->port = (unsigned)port;
			port_ok = true;
		} else {
			err(ld, kline, name, "unknown key");
		}
	}
	if (!have_name)
		err(ld, iline, iname, "missing name");
	if (!have_address)
		err(ld, iline, iname, "missing address");
	if (!have_port)
		err(ld, iline, iname, "missing port");
	if (!addr_ok || !port_ok)
		return;
	addrs[i].ok = true;
	for (size_t j = 0; j < i; j++) {
		if (addrs[j].ok && addrs[j].family == addrs[i].family && all[j].port == l->port &&
		    memcmp(addrs[j].bin, addrs[i].bin, sizeof(addrs[i].bin)) == 0) {
			err(ld, iline, iname, "same address and port as listeners[%zu]", j);
			break;
		}
	}
}

static void load_listeners(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct listener_cfg *list;
	struct bound_addr *addrs;
	struct fy_node *item;
	void *it = NULL;
	size_t n, i = 0;
	bool empty;

	if (!expect_collection(ld, v, FYNT_SEQUENCE, name, kline, "a list of listeners", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_sequence_item_count(v);
	if (n == 0) {
		err(ld, kline, name, "at least one listener is needed");
		return;
	}
	if (n > LISTENERS_MAX) {
		err(ld, kline, name, "at most %d listeners are allowed", LISTENERS_MAX);
		return;
	}
	list = xcalloc(n, sizeof(*list));
	addrs = xcalloc(n, sizeof(*addrs));
	/* An empty entry ("- {}") has no position of its own: it is reported
	 * at the line of the entry before it. */
	for (int line = kline; (item = fy_node_sequence_iterate(v, &it)) != NULL && i < n; i++) {
		line = node_line(item, line);
		load_listener(ld, item, i, line, list, addrs);
	}
	free(addrs);
	listeners_free(ld->cfg->listeners, ld->cfg->n_listeners);
	ld->cfg->listeners = list;
	ld->cfg->n_listeners = n;
}

static void domains_free(char **d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i]);
	free(d);
}

static void load_local_domains(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct fy_node *item;
	void *it = NULL;
	char **list;
	size_t n, count = 0;
	int prev = kline;
	bool empty;

	if (!expect_collection(ld, v, FYNT_SEQUENCE, name, kline, "a list of domain names", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_sequence_item_count(v);
	if (n > LIST_MAX) {
		err(ld, kline, name, "more than %d entries", LIST_MAX);
		return;
	}
	list = xcalloc(n, sizeof(*list));
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL && i < n; i++) {
		char iname[64];
		const char *s, *why;
		size_t len;
		int line;
		bool dup = false;

		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		prev = node_line(item, prev);
		if (!scalar_value(ld, item, iname, prev, &s, &len, &line))
			continue;
		if ((why = schema_check_domain(s, len)) != NULL) {
			err(ld, line, iname, "%s", why);
			continue;
		}
		char *d = lower_dup(s, len);
		for (size_t j = 0; j < count && !dup; j++)
			dup = strcmp(list[j], d) == 0;
		if (dup) {
			err(ld, line, iname, "duplicate domain %s", d);
			free(d);
			continue;
		}
		list[count++] = d;
	}
	domains_free(ld->cfg->local_domains, ld->cfg->n_local_domains);
	ld->cfg->local_domains = list;
	ld->cfg->n_local_domains = count;
}

static void load_trusted_networks(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct cidr_list list = { NULL, 0 };
	struct fy_node *item;
	void *it = NULL;
	size_t n;
	int prev = kline;
	bool empty;

	if (!expect_collection(ld, v, FYNT_SEQUENCE, name, kline, "a list of networks", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_sequence_item_count(v);
	if (n > LIST_MAX) {
		err(ld, kline, name, "more than %d entries", LIST_MAX);
		return;
	}
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[64];
		struct cidr c;
		const char *s;
		size_t len;
		int line;

		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		prev = node_line(item, prev);
		if (!scalar_value(ld, item, iname, prev, &s, &len, &line))
			continue;
		if (!cidr_parse(s, len, &c)) {
			err(ld, line, iname,
			    "not a network (use e.g. 192.0.2.0/24 or 2001:db8::/32, with the host bits zero)");
			continue;
		}
		cidr_list_add(&list, &c);
	}
	cidr_list_free(&ld->cfg->trusted_networks);
	ld->cfg->trusted_networks = list;
}

static void routes_free(struct route *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		route_free(&r[i]);
	free(r);
}

/* routes: "domain" or ".domain" (every subdomain) -> next hop. */
static void load_routes(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct fy_node_pair *p;
	struct route *list;
	void *it = NULL;
	size_t n, count = 0;
	bool empty;

	if (!expect_collection(ld, v, FYNT_MAPPING, name, kline, "a mapping of domain to next hop", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_mapping_item_count(v);
	if (n > LIST_MAX) {
		err(ld, kline, name, "more than %d entries", LIST_MAX);
		return;
	}
	list = xcalloc(n, sizeof(*list));
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL && count < n) {
		char rname[NAME_SIZE];
		const char *k, *s, *why;
		size_t klen, len;
		int rline, vline;
		bool sub, dup = false;

		if (!pair_key(ld, p, name, kline, &k, &klen, &rline))
			continue;
		key_name(rname, sizeof(rname), name, k, klen);
		sub = k[0] == '.';
		if ((why = schema_check_domain(k + sub, klen - sub)) != NULL) {
			err(ld, rline, rname, "%s", why);
			continue;
		}
		if (!scalar_value(ld, fy_node_pair_value(p), rname, rline, &s, &len, &vline))
			continue;

		struct route r = { 0 };
		char *spec = xstrndup(s, len);
		bool ok = route_parse_nexthop(spec, &r, &why);
		free(spec);
		if (!ok) {
			err(ld, vline, rname, "%s", why);
			continue;
		}
		r.domain = lower_dup(k + sub, klen - sub);
		r.subdomains = sub;
		for (size_t j = 0; j < count && !dup; j++)
			dup = list[j].subdomains == sub && strcmp(list[j].domain, r.domain) == 0;
		if (dup) {
			err(ld, rline, rname, "duplicate route (domains compare without regard to case)");
			route_free(&r);
			continue;
		}
		list[count++] = r;
	}
	routes_free(ld->cfg->routes, ld->cfg->n_routes);
	ld->cfg->routes = list;
	ld->cfg->n_routes = count;
}

/* Top-level keys holding lists or mappings of entries. */
static const struct collection {
	const char *key;
	void (*load)(struct loader *ld, struct fy_node *v, const char *name, int kline);
} collections[] = {
	{ "listeners", load_listeners },
	{ "local_domains", load_local_domains },
	{ "trusted_networks", load_trusted_networks },
	{ "routes", load_routes },
};

static const struct collection *collection_find(const char *k, size_t len)
{
	for (size_t i = 0; i < sizeof(collections) / sizeof(collections[0]); i++)
		if (text_is(k, len, collections[i].key))
			return &collections[i];
	return NULL;
}

/* ---- the walk ---------------------------------------------------------- */

static void load_scalar(struct loader *ld, const struct schema_key *sk, struct fy_node *v,
			const char *name, int kline)
{
	char problem[512];
	const char *s;
	size_t len;
	int line;

	if (!scalar_value(ld, v, name, kline, &s, &len, &line))
		return;
	if (!schema_set(sk, ld->cfg, s, len, problem, sizeof(problem))) {
		err(ld, line, name, "%s", problem);
		return;
	}
	if (ld->user)
		ld->set_line[sk - schema_keys] = line;
}

/* A mapping of keys: the top level (prefix NULL) or a section ("limits"). */
static void load_mapping(struct loader *ld, struct fy_node *map, const char *prefix, int fallback)
{
	struct fy_node_pair *p;
	void *it = NULL;

	while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *v = fy_node_pair_value(p);
		char name[NAME_SIZE], raw[NAME_SIZE];
		const struct schema_key *sk = NULL;
		const struct collection *coll = NULL;
		const char *k;
		size_t klen;
		int kline;
		bool word, empty;

		if (!pair_key(ld, p, prefix, fallback, &k, &klen, &kline))
			continue;
		key_name(name, sizeof(name), prefix, k, klen);
		word = key_is_word(k, klen);
		if (word) {
			snprintf(raw, sizeof(raw), "%s%s%.*s", prefix ? prefix : "", prefix ? "." : "", (int)klen, k);
			sk = schema_find(raw, strlen(raw));
			coll = prefix ? NULL : collection_find(raw, strlen(raw));
		}
		if (sk) {
			load_scalar(ld, sk, v, name, kline);
		} else if (coll) {
			coll->load(ld, v, name, kline);
		} else if (word && schema_is_section(raw, strlen(raw))) {
			if (expect_collection(ld, v, FYNT_MAPPING, name, kline, "a mapping", &empty) && !empty)
				load_mapping(ld, v, raw, kline);
		} else {
			err(ld, kline, name, "unknown key");
		}
	}
}

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
}

/* Parse YAML text (len bytes; it must stay valid until we return) and
 * apply it. Syntax errors are reported with their line and stop the walk:
 * a half-parsed document would only add confusing follow-up errors. */
static void load_text(struct loader *ld, const char *text, size_t len)
{
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	struct fy_parse_cfg pcfg;
	struct fy_parser *parser;
	struct fy_document *doc, *extra = NULL;
	struct fy_diag_error *de;
	void *it = NULL;
	bool syntax_error;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = diag_discard;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (!diag) {
		config_errors_add(ld->errs, "%s: cannot set up the YAML parser", ld->file);
		return;
	}
	fy_diag_set_collect_errors(diag, true);
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET;
	pcfg.diag = diag;
	parser = fy_parser_create(&pcfg);
	if (!parser || fy_parser_set_string(parser, text, len) != 0) {
		config_errors_add(ld->errs, "%s: cannot set up the YAML parser", ld->file);
		if (parser)
			fy_parser_destroy(parser);
		fy_diag_destroy(diag);
		return;
	}

	doc = fy_parse_load_document(parser);
	if (doc && !fy_diag_got_error(diag))
		extra = fy_parse_load_document(parser);
	syntax_error = fy_diag_got_error(diag) || fy_parser_get_stream_error(parser);

	if (syntax_error) {
		bool any = false;
		while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
			char msg[SHOW_SIZE];
			show(msg, sizeof(msg), de->msg ? de->msg : "", de->msg ? strlen(de->msg) : 0);
			if (de->line > 0)
				config_errors_add(ld->errs, "%s:%d: YAML syntax error: %s", ld->file, de->line, msg);
			else
				config_errors_add(ld->errs, "%s: YAML syntax error: %s", ld->file, msg);
			any = true;
		}
		if (!any)
			config_errors_add(ld->errs, "%s: YAML syntax error", ld->file);
	} else if (extra) {
		config_errors_add(ld->errs, "%s:%d: only one YAML document is allowed", ld->file,
				  node_line(fy_document_root(extra), 1));
	} else if (doc && fy_document_root(doc)) {
		struct fy_node *root = fy_document_root(doc);
		if (node_is_null(root))
			; /* an empty document: nothing to override */
		else if (!fy_node_is_mapping(root) || fy_node_is_alias(root))
			config_errors_add(ld->errs, "%s:%d: the configuration must be a mapping of keys to values",
					  ld->file, node_line(root, 1));
		else
			load_mapping(ld, root, NULL, 1);
	}

	if (extra)
		fy_parse_document_destroy(parser, extra);
	if (doc)
		fy_parse_document_destroy(parser, doc);
	fy_parser_destroy(parser);
	fy_diag_destroy(diag);
}

/* Read the whole file (at most CONFIG_FILE_MAX bytes) into *buf. */
static bool read_file(struct loader *ld, const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 8192, n = 0;
	bool ok = true;
	char *b;

	if (!f) {
		config_errors_add(ld->errs, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	b = xmalloc(cap);
	for (;;) {
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				config_errors_add(ld->errs, "%s: cannot read: %s", path, strerror(errno));
				ok = false;
			}
			break;
		}
		if (n > CONFIG_FILE_MAX) {
			config_errors_add(ld->errs, "%s: larger than %d bytes: not a configuration file?",
					  path, CONFIG_FILE_MAX);
			ok = false;
			break;
		}
		if (n == cap) {
			cap *= 2;
			b = xreallocarray(b, cap, 1);
		}
	}
	fclose(f);
	if (!ok) {
		free(b);
		return false;
	}
	*buf = b;
	*len = n;
	return true;
}

static void load_file(struct loader *ld, const char *path)
{
	const char *nul;
	char *buf;
	size_t len;

	if (!read_file(ld, path, &buf, &len))
		return;
	/* YAML forbids NUL; say so plainly instead of leaving it to the parser. */
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		int line = 1;
		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		config_errors_add(ld->errs, "%s:%d: the file contains a NUL byte: not a text file?", path, line);
	} else {
		load_text(ld, buf, len);
	}
	free(buf);
}

/* ---- after loading: derived values and cross-checks --------------------- */

/* Lexically clean an absolute path: no empty or "." components, no
 * trailing slash. ".." is kept: resolving it needs the file system. */
static char *path_clean(const char *p)
{
	size_t len = strlen(p), o = 0;
	char *out = xmalloc(len + 2);

	while (*p) {
		size_t n;
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* The state directory, relative to the configuration file's directory
 * (the working directory for the embedded default). */
static void resolve_state_dir(struct loader *ld, const char *path)
{
	struct config *c = ld->cfg;
	char cwd[PATH_MAX];
	char *dir, *joined;
	const char *slash;

	if (!c->state_dir || c->state_dir[0] == '/') {
		if (c->state_dir) {
			char *clean = path_clean(c->state_dir);
			free(c->state_dir);
			c->state_dir = clean;
		}
		return;
	}
	slash = path ? strrchr(path, '/') : NULL;
	if (slash && path[0] == '/') {
		dir = xstrndup(path, (size_t)(slash - path) + 1);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			config_errors_add(ld->errs, "%s: state_dir: cannot make %s absolute: %s", ld->file,
					  c->state_dir, strerror(errno));
			return;
		}
		size_t dlen = slash ? (size_t)(slash - path) : 0;
		dir = xmalloc(strlen(cwd) + dlen + 2);
		snprintf(dir, strlen(cwd) + dlen + 2, "%s/%.*s", cwd, (int)dlen, path ? path : "");
	}
	size_t jlen = strlen(dir) + strlen(c->state_dir) + 2;
	joined = xmalloc(jlen);
	snprintf(joined, jlen, "%s/%s", dir, c->state_dir);
	free(dir);
	free(c->state_dir);
	c->state_dir = path_clean(joined);
	free(joined);
}

static void resolve_hostname(struct loader *ld)
{
	char name[HOST_NAME_MAX + 1], shown[SHOW_SIZE];
	const char *why;

	if (ld->cfg->hostname)
		return;
	if (gethostname(name, sizeof(name)) != 0) {
		config_errors_add(ld->errs, "%s: hostname: cannot get the machine's name (%s); set hostname",
				  ld->file, strerror(errno));
		return;
	}
	name[sizeof(name) - 1] = '\0';
	if ((why = schema_check_domain(name, strlen(name))) != NULL) {
		show(shown, sizeof(shown), name, strlen(name));
		config_errors_add(ld->errs, "%s: hostname: the machine's name \"%s\" is unusable (%s); set hostname",
				  ld->file, shown, why);
		return;
	}
	ld->cfg->hostname = xstrdup(name);
}

static size_t key_index(const char *key)
{
	return (size_t)(schema_find(key, strlen(key)) - schema_keys);
}

static void cross_check(struct loader *ld)
{
	const struct config *c = ld->cfg;

	if (c->queue.retry_max < c->queue.retry_min) {
		int max_line = ld->set_line[key_index("queue.retry_max")];
		int min_line = ld->set_line[key_index("queue.retry_min")];

		/* Blame the key the administrator wrote; retry_max if both. */
		if (max_line || !min_line)
			err(ld, max_line, "queue.retry_max", "must not be shorter than queue.retry_min");
		else
			err(ld, min_line, "queue.retry_min", "must not be longer than queue.retry_max");
	}
}

struct config *config_load(const char *path, struct config_errors *errs)
{
	struct config *c = xcalloc(1, sizeof(*c));
	size_t before = errs->n;
	struct loader ld = {
		.cfg = c,
		.errs = errs,
		.file = CONFIG_DEFAULT_SOURCE,
		.set_line = xcalloc(schema_n_keys, sizeof(int)),
		.user = false,
	};

	c->source = xstrdup(path ? path : CONFIG_DEFAULT_SOURCE);
	load_text(&ld, config_default_yaml, strlen(config_default_yaml));
	if (path) {
		ld.file = path;
		ld.user = true;
		load_file(&ld, path);
	}
	resolve_hostname(&ld);
	resolve_state_dir(&ld, path);
	cross_check(&ld);
	free(ld.set_line);
	if (errs->n != before) {
		config_free(c);
		return NULL;
	}
	return c;
}

/* ---- queries ----------------------------------------------------------- */

bool config_is_local_domain(const struct config *c, const char *domain, size_t len)
{
	for (size_t i = 0; i < c->n_local_domains; i++) {
		const char *d = c->local_domains[i];
		size_t j;

		if (strlen(d) != len)
			continue;
		for (j = 0; j < len; j++) {
			char a = domain[j];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (a != d[j])
				break;
		}
		if (j == len)
			return true;
	}
	return false;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->source);
	free(c->hostname);
	free(c->state_dir);
	free(c->user);
	free(c->smtpd_user);
	listeners_free(c->listeners, c->n_listeners);
	domains_free(c->local_domains, c->n_local_domains);
	cidr_list_free(&c->trusted_networks);
	routes_free(c->routes, c->n_routes);
	free(c);
}
