/*
 * The configuration's collections: listeners, local_domains,
 * trusted_networks and dns.servers. See lists.h. Runs in the master, before
 * the privilege drop; no I/O.
 */
#include "config/lists.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/check.h"
#include "config/levels.h"
#include "config/mapping.h"
#include "config/partners.h"
#include "config/schema.h"
#include "util/alloc.h"

#define LISTENERS_MAX 32
#define LIST_MAX 10000  /* entries in local_domains, trusted_networks */

static char *lower_dup(const char *s, size_t len)
{
	char *d = xstrndup(s, len);
	for (char *p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

void lists_free_listeners(struct listener_cfg *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].name);
		free(l[i].address);
		cidr_list_free(&l[i].trusted_networks);
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

static const struct schema_enum listener_modes[] = {
	{ "mta", LISTENER_MTA }, { "submission", LISTENER_SUBMISSION }, { NULL, 0 } };
static const struct schema_enum listener_tls_modes[] = {
	{ "none", LISTENER_TLS_NONE }, { "starttls", LISTENER_TLS_STARTTLS },
	{ "implicit", LISTENER_TLS_IMPLICIT }, { NULL, 0 } };
static const struct schema_enum listener_auth_modes[] = {
	{ "off", LISTENER_AUTH_OFF }, { "optional", LISTENER_AUTH_OPTIONAL },
	{ "required", LISTENER_AUTH_REQUIRED }, { NULL, 0 } };

/* One of values[] (its name), reported with the choices otherwise. */
static bool load_choice(struct loader *ld, struct fy_node *v, const char *name, int kline,
			const struct schema_enum *values, int *out)
{
	const char *s;
	size_t len;
	int line;
	char choices[128] = "";

	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return false;
	for (const struct schema_enum *e = values; e->name; e++) {
		if (loader_text_is(s, len, e->name)) {
			*out = e->value;
			return true;
		}
		snprintf(choices + strlen(choices), sizeof(choices) - strlen(choices), "%s%s",
			 choices[0] ? ", " : "", e->name);
	}
	loader_err(ld, line, name, "must be one of: %s", choices);
	return false;
}

static void load_cidr_items(struct loader *ld, struct fy_node *v, const char *name, int kline,
			    struct cidr_list *out);

/* One listeners[i] entry as it is read: the entry (l, copied into
 * all[i] once read), the entries before it (all, addrs: for the
 * duplicate checks) and whether address and port were good. */
struct listener_walk {
	struct listener_cfg l;
	struct listener_cfg *all;
	struct bound_addr *addrs;
	size_t i;
	bool addr_ok, port_ok;
};

static void load_listener_name(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct listener_walk *w = field;
	const char *s;
	size_t len;
	int vline;

	if (!loader_scalar(ld, v, name, kline, &s, &len, &vline))
		return;
	if (!listener_name_valid(s, len)) {
		loader_err(ld, vline, name, "bad name (1 to 32 of a-z, 0-9, '_' and '-')");
		return;
	}
	for (size_t j = 0; j < w->i; j++) {
		if (w->all[j].name && loader_text_is(s, len, w->all[j].name)) {
			loader_err(ld, vline, name, "duplicate listener name %s (also listeners[%zu])", w->all[j].name, j);
			break;
		}
	}
	w->l.name = xstrndup(s, len);
}

static void load_listener_address(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct listener_walk *w = field;
	struct bound_addr *a = &w->addrs[w->i];
	char buf[INET6_ADDRSTRLEN];
	const char *s;
	size_t len;
	int vline;

	if (!loader_scalar(ld, v, name, kline, &s, &len, &vline))
		return;
	if (len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET, buf, a->bin) == 1) {
			a->family = AF_INET;
			w->addr_ok = true;
		} else if (inet_pton(AF_INET6, buf, a->bin) == 1) {
			a->family = AF_INET6;
			w->addr_ok = true;
		}
	}
	if (!w->addr_ok) {
		loader_err(ld, vline, name, "not a numeric IPv4 or IPv6 address");
		return;
	}
	w->l.address = xstrndup(s, len);
}

static void load_listener_port(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct listener_walk *w = field;
	unsigned long long port;
	bool overflow;
	const char *s;
	size_t len;
	int vline;

	if (!loader_scalar(ld, v, name, kline, &s, &len, &vline))
		return;
	if (!schema_parse_number(s, len, &port, &overflow) && !overflow) {
		loader_err(ld, vline, name, "not a number (use decimal digits)");
		return;
	}
	if (overflow || port < 1 || port > 65535) {
		loader_err(ld, vline, name, "must be between 1 and 65535");
		return;
	}
	w->l.port = (unsigned)port;
	w->port_ok = true;
}

static void load_listener_mode(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	int choice;
	if (load_choice(ld, v, name, kline, listener_modes, &choice))
		*(enum listener_mode *)field = (enum listener_mode)choice;
}

static void load_listener_tls(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	int choice;
	if (load_choice(ld, v, name, kline, listener_tls_modes, &choice))
		*(enum listener_tls *)field = (enum listener_tls)choice;
}

static void load_listener_auth(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	int choice;
	if (load_choice(ld, v, name, kline, listener_auth_modes, &choice))
		*(enum listener_auth *)field = (enum listener_auth)choice;
}

static void load_listener_networks(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	load_cidr_items(ld, v, name, kline, field);
}

/* greet_delay: like postscreen's pregreet test, a pause before the 220;
 * a client that talks into it is no SMTP client (RFC 5321 3.1, issue 18
 * item 1). Bounded well below limits.command_timeout's minimum use. */
static void load_greet_delay(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	static const struct schema_key key = { "greet_delay", SCHEMA_DURATION, 0, 60, 0, NULL, NULL, NULL };
	const char *s;
	size_t len;
	int vline;
	char problem[160];
	if (!loader_scalar(ld, v, name, kline, &s, &len, &vline))
		return;
	if (!schema_set(&key, field, s, len, problem, sizeof(problem)))
		loader_err(ld, vline, name, "%s", problem);
}

#define LW_OFF(member) offsetof(struct listener_walk, l.member)
static const struct mapping_key listener_keys[] = {
	{ "name", load_listener_name, 0 },
	{ "address", load_listener_address, 0 },
	{ "port", load_listener_port, 0 },
	{ "mode", load_listener_mode, LW_OFF(mode) },
	{ "tls", load_listener_tls, LW_OFF(tls) },
	{ "auth", load_listener_auth, LW_OFF(auth) },
	{ "trusted_networks", load_listener_networks, LW_OFF(trusted_networks) },
	{ "greet_delay", load_greet_delay, LW_OFF(greet_delay) },
};

/* One listeners[i] entry: { name, address, port } required; mode, tls,
 * auth, trusted_networks and greet_delay optional. */
static void load_listener(struct loader *ld, struct fy_node *item, size_t i, int iline,
			  struct listener_cfg *all, struct bound_addr *addrs)
{
	struct listener_cfg *l = &all[i];
	struct listener_walk w = { .all = all, .addrs = addrs, .i = i };
	char iname[64];
	unsigned seen;

	l->mode = LISTENER_MTA;
	l->tls = LISTENER_TLS_STARTTLS;

	snprintf(iname, sizeof(iname), "listeners[%zu]", i);
	if (!fy_node_is_mapping(item) || fy_node_is_alias(item)) {
		loader_err(ld, iline, iname, "expected a mapping with name, address and port");
		return;
	}
	w.l = *l;
	seen = MAPPING_LOAD(ld, item, iname, iline, listener_keys, &w);
	*l = w.l;
	if (!(seen & MAPPING_BIT(listener_keys, "name")))
		loader_err(ld, iline, iname, "missing name");
	if (!(seen & MAPPING_BIT(listener_keys, "address")))
		loader_err(ld, iline, iname, "missing address");
	if (!(seen & MAPPING_BIT(listener_keys, "port")))
		loader_err(ld, iline, iname, "missing port");
	/* Submission (RFC 6409) is for authenticated users unless told otherwise. */
	if (!(seen & MAPPING_BIT(listener_keys, "auth")))
		l->auth = l->mode == LISTENER_SUBMISSION ? LISTENER_AUTH_REQUIRED : LISTENER_AUTH_OFF;
	if (!w.addr_ok || !w.port_ok)
		return;
	addrs[i].ok = true;
	for (size_t j = 0; j < i; j++) {
		if (addrs[j].ok && addrs[j].family == addrs[i].family && all[j].port == l->port &&
		    memcmp(addrs[j].bin, addrs[i].bin, sizeof(addrs[i].bin)) == 0) {
			loader_err(ld, iline, iname, "same address and port as listeners[%zu]", j);
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

	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of listeners", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_sequence_item_count(v);
	if (n == 0) {
		loader_err(ld, kline, name, "at least one listener is needed");
		return;
	}
	if (n > LISTENERS_MAX) {
		loader_err(ld, kline, name, "at most %d listeners are allowed", LISTENERS_MAX);
		return;
	}
	list = xcalloc(n, sizeof(*list));
	addrs = xcalloc(n, sizeof(*addrs));
	/* An empty entry ("- {}") has no position of its own: it is reported
	 * at the line of the entry before it. */
	for (int line = kline; (item = fy_node_sequence_iterate(v, &it)) != NULL && i < n; i++) {
		line = loader_line(item, line);
		load_listener(ld, item, i, line, list, addrs);
	}
	free(addrs);
	lists_free_listeners(ld->cfg->listeners, ld->cfg->n_listeners);
	ld->cfg->listeners = list;
	ld->cfg->n_listeners = n;
}

void lists_free_domains(char **d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i]);
	free(d);
}

static void load_domain_list(struct loader *ld, struct fy_node *v, const char *name, int kline,
			     char ***out, size_t *n_out)
{
	struct fy_node *item;
	void *it = NULL;
	char **list;
	size_t n, count = 0;
	int prev = kline;
	bool empty;

	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of domain names", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_sequence_item_count(v);
	if (n > LIST_MAX) {
		loader_err(ld, kline, name, "more than %d entries", LIST_MAX);
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
		prev = loader_line(item, prev);
		if (!loader_scalar(ld, item, iname, prev, &s, &len, &line))
			continue;
		/* ".example.org": every subdomain, as in routes (TOP-1: an
		 * internal server may own a whole tree of subdomains). */
		bool tree = len > 1 && s[0] == '.';
		if ((why = schema_check_domain(s + tree, len - tree)) != NULL) {
			loader_err(ld, line, iname, "%s", why);
			continue;
		}
		char *d = lower_dup(s, len);
		for (size_t j = 0; j < count && !dup; j++)
			dup = strcmp(list[j], d) == 0;
		if (dup) {
			loader_err(ld, line, iname, "duplicate domain %s", d);
			free(d);
			continue;
		}
		list[count++] = d;
	}
	lists_free_domains(*out, *n_out);
	*out = list;
	*n_out = count;
}

static void load_local_domains(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	load_domain_list(ld, v, name, kline, &ld->cfg->local_domains, &ld->cfg->n_local_domains);
}

static void load_tls_required_domains(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	load_domain_list(ld, v, name, kline, &ld->cfg->tls_required_domains,
			 &ld->cfg->n_tls_required_domains);
}

void lists_free_certificates(struct tls_cert_cfg *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].cert);
		free(c[i].key);
	}
	free(c);
}

/* A certificates[i] file, cert or key: field is the struct tls_cert_cfg
 * member. */
static void load_cert_file(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	char **slot = field;
	const char *s;
	size_t len;
	int vl;

	if (!loader_scalar(ld, v, name, kline, &s, &len, &vl))
		return;
	if (len == 0 || memchr(s, '\0', len) || len > 4095) {
		loader_err(ld, vl, name, "not a file name");
		return;
	}
	free(*slot);
	*slot = xstrndup(s, len);
}

static const struct mapping_key cert_keys[] = {
	{ "cert", load_cert_file, offsetof(struct tls_cert_cfg, cert) },
	{ "key", load_cert_file, offsetof(struct tls_cert_cfg, key) },
};

/* certificates: a list of { cert, key } file pairs. The files are read by
 * the master when it starts a generation, not here: loading stays I/O-free. */
static void load_certificates(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct fy_node *item;
	void *it = NULL;
	size_t n, count = 0;
	bool empty;

	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of {cert, key}", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_sequence_item_count(v);
	if (n > LISTENERS_MAX) {
		loader_err(ld, kline, name, "at most %d certificates are allowed", LISTENERS_MAX);
		return;
	}
	struct tls_cert_cfg *list = xcalloc(n ? n : 1, sizeof(*list));
	int line = kline;
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL && i < n; i++) {
		char iname[64];
		struct tls_cert_cfg e = { 0 };

		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		line = loader_line(item, line);
		e.line = ld->user ? line : 0;
		if (!fy_node_is_mapping(item) || fy_node_is_alias(item)) {
			loader_err(ld, line, iname, "expected a mapping with cert and key");
			continue;
		}
		MAPPING_LOAD(ld, item, iname, line, cert_keys, &e);
		if (!e.cert || !e.key) {
			loader_err(ld, line, iname, "needs both cert and key");
			free(e.cert);
			free(e.key);
			continue;
		}
		list[count++] = e;
	}
	lists_free_certificates(ld->cfg->certificates, ld->cfg->n_certificates);
	ld->cfg->certificates = list;
	ld->cfg->n_certificates = count;
}

static void load_cidr_items(struct loader *ld, struct fy_node *v, const char *name, int kline,
			    struct cidr_list *out)
{
	struct cidr_list list = { NULL, 0 };
	struct fy_node *item;
	void *it = NULL;
	size_t n;
	int prev = kline;
	bool empty;

	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of networks", &empty))
		return;
	n = empty ? 0 : (size_t)fy_node_sequence_item_count(v);
	if (n > LIST_MAX) {
		loader_err(ld, kline, name, "more than %d entries", LIST_MAX);
		return;
	}
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[LOADER_NAME_SIZE + 16];
		struct cidr c;
		const char *s;
		size_t len;
		int line;

		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		prev = loader_line(item, prev);
		if (!loader_scalar(ld, item, iname, prev, &s, &len, &line))
			continue;
		if (!cidr_parse(s, len, &c)) {
			loader_err(ld, line, iname,
			    "not a network (use e.g. 192.0.2.0/24 or 2001:db8::/32, with the host bits zero)");
			continue;
		}
		if (config_network_opens_relay(&c)) {
			/* Held back: allow_open_relay may come later in the file. */
			struct config_errors *errs = ld->errs;
			ld->errs = &ld->open_relay;
			loader_err(ld, line, iname, "%.*s makes the gateway an open relay (public addresses beyond "
				   "a /8 may relay); narrow it, or set allow_open_relay: true", (int)len, s);
			ld->errs = errs;
		}
		cidr_list_add(&list, &c);
	}
	cidr_list_free(out);
	*out = list;
}

static void load_trusted_networks(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	load_cidr_items(ld, v, name, kline, &ld->cfg->trusted_networks);
}

/* dns.servers: a list of resolver addresses, "127.0.0.1", "127.0.0.1:5353",
 * "::1" or "[::1]:53", stored as the comma-separated form c-ares takes. */
static bool dns_server_valid(const char *s, size_t len)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *port = NULL;
	size_t hlen = len;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return false;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return false;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, bin) != 1)
			return false;
		if (close + 1 == s + len)
			return true;
		if (close[1] != ':')
			return false;
		port = close + 2;
	} else {
		const char *colon = memchr(s, ':', len);
		if (colon && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1)) {
			/* bare IPv6, no port */
			if (len >= sizeof(host))
				return false;
			memcpy(host, s, len);
			host[len] = '\0';
			return inet_pton(AF_INET6, host, bin) == 1;
		}
		hlen = colon ? (size_t)(colon - s) : len;
		if (hlen == 0 || hlen >= sizeof(host))
			return false;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, bin) != 1)
			return false;
		port = colon ? colon + 1 : NULL;
	}
	if (!port)
		return true;
	unsigned long long v;
	bool overflow;
	return schema_parse_number(port, (size_t)(s + len - port), &v, &overflow) && v >= 1 && v <= 65535;
}

static void load_dns_servers(struct loader *ld, struct fy_node *v, const char *name, int kline)
{
	struct fy_node *item;
	void *it = NULL;
	int prev = kline;
	bool empty;
	char joined[1024] = "";
	size_t used = 0;

	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list of server addresses (e.g. [127.0.0.1:5353])",
			   &empty))
		return;
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[64];
		const char *s;
		size_t len;
		int line;

		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		prev = loader_line(item, prev);
		if (!loader_scalar(ld, item, iname, prev, &s, &len, &line))
			continue;
		if (!dns_server_valid(s, len)) {
			loader_err(ld, line, iname, "not a server address (e.g. 127.0.0.1, 127.0.0.1:5353, [::1]:53)");
			continue;
		}
		if (used + len + 2 > sizeof(joined)) {
			loader_err(ld, line, iname, "too many servers");
			return;
		}
		used += (size_t)snprintf(joined + used, sizeof(joined) - used, "%s%.*s", used ? "," : "", (int)len, s);
	}
	free(ld->cfg->dns.servers);
	ld->cfg->dns.servers = used ? xstrdup(joined) : NULL;
}

static const struct lists_entry lists[] = {
	{ "listeners", load_listeners },
	{ "local_domains", load_local_domains },
	{ "trusted_networks", load_trusted_networks },
	{ "certificates", load_certificates },
	{ "tls_required_domains", load_tls_required_domains },
	{ "dns.servers", load_dns_servers },
	{ "emergency.levels", levels_load },
	{ "emergency.partners.allow", partners_allow_load },
};

const struct lists_entry *lists_all(size_t *n)
{
	*n = sizeof(lists) / sizeof(lists[0]);
	return lists;
}

const struct lists_entry *lists_find(const char *k, size_t len)
{
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (loader_text_is(k, len, lists[i].key))
			return &lists[i];
	return NULL;
}
