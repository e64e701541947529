/*
 * The configuration loader: YAML (libfyaml) into one struct config.
 *
 * Runs in the master, before the privilege drop and before any child is
 * forked; it may block (it reads one file). The embedded default is
 * loaded first, then the user's file overrides the keys it sets: a scalar
 * replaces the default's value, a list or mapping of entries (listeners,
 * local_domains, trusted_networks, routes) replaces the default's whole
 * list. Scalar keys come from the schema table (schema.c); the
 * collections are parsed in lists.c; the sections other layers own
 * (scan:, routes:, tls_policy:, queue:, the rewriting table) are
 * registered in master/sections.c and reached through section.h only.
 *
 * Every problem is reported, as "file:line: key: problem", and loading
 * goes on after an error so that one run shows them all. Text from the
 * file is escaped before it is quoted in a message: a configuration
 * error must not be able to write control sequences to a terminal.
 */
#include "config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfyaml.h>

#include "config/levels.h"
#include "config/partners.h"
#include "config/lists.h"
#include "config/loader.h"
#include "config/mapping.h"
#include "config/schema.h"
#include "config/section.h"
#include "util/alloc.h"
#include "util/utf8.h"
#include "util/sha256hex.h"

#define CONFIG_FILE_MAX (1024 * 1024)  /* a configuration is a few KiB; refuse anything huge */

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

/* Keys of the schema are lower-case words; anything else is unknown. */
static bool key_is_word(const char *k, size_t len)
{
	if (len == 0 || len > LOADER_SHOW_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return false;
	return true;
}

/* ---- the walk ---------------------------------------------------------- */

static void load_scalar(struct loader *ld, const struct schema_key *sk, struct fy_node *v,
			const char *name, int kline)
{
	char problem[512];
	const char *s;
	size_t len;
	int line;

	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return;
	if (!schema_set(sk, ld->cfg, s, len, problem, sizeof(problem))) {
		loader_err(ld, line, name, "%s", problem);
		return;
	}
	if (ld->user)
		ld->set_line[sk - schema_keys] = line;
}

static const struct config_section *section_find(const char *key, size_t len)
{
	for (const struct config_section *const *s = config_sections; *s; s++)
		if (loader_text_is(key, len, (*s)->key))
			return *s;
	return NULL;
}

/* Lines that set keys are kept in one array (loader.h set_line): a slot
 * per schema key, then the keys of each section in config_sections[]
 * order. The first slot of sec's keys, or with sec NULL the size. */
static size_t section_slot(const struct config_section *sec)
{
	size_t slot = schema_n_keys;
	for (const struct config_section *const *s = config_sections; *s && *s != sec; s++)
		slot += (*s)->n_keys;
	return slot;
}

/* The slot of a dotted key ("limits.recipients", "queue.lifetime"), or -1. */
static long key_slot(const char *key)
{
	const struct schema_key *k = schema_find(key, strlen(key));
	const char *dot = strchr(key, '.');
	const struct config_section *sec;

	if (k)
		return k - schema_keys;
	if (!dot || !(sec = section_find(key, (size_t)(dot - key))))
		return -1;
	for (size_t i = 0; i < sec->n_keys; i++)
		if (strcmp(dot + 1, sec->keys[i].schema.key) == 0)
			return (long)(section_slot(sec) + i);
	return -1;
}

/* A section being read (load_section): its owner's table and the part
 * the keys go into. */
struct section_walk {
	const struct config_section *sec;
	void *part;
};

/* One key of a section: a scalar through the schema, else the owner's
 * parser. */
static void load_section_key(struct loader *ld, const char *k, size_t klen, struct fy_node *v, const char *name,
			     int kl, void *ctx)
{
	const struct section_walk *w = ctx;
	const struct config_section *sec = w->sec;
	char problem[512];
	const char *s;
	size_t len, i;
	int line;

	for (i = 0; i < sec->n_keys; i++)
		if (loader_text_is(k, klen, sec->keys[i].schema.key))
			break;
	if (i == sec->n_keys) {
		if (!sec->load || !sec->load(ld, w->part, k, klen, v, name, kl))
			loader_err(ld, kl, name, "unknown key");
		return;
	}
	if (!loader_scalar(ld, v, name, kl, &s, &len, &line))
		return;
	if (!schema_set(&sec->keys[i].schema, w->part, s, len, problem, sizeof(problem)))
		loader_err(ld, line, name, "%s", problem);
	else if (ld->user)
		ld->set_line[section_slot(sec) + i] = line;
}

/* A section registered by its owner (section.h): a new part with the
 * keys' defaults, then the user's keys, scalars through the schema, the
 * rest through the owner's parser. */
static void load_section(struct loader *ld, const struct config_section *sec, struct fy_node *map,
			 const char *prefix, int kline)
{
	char problem[512];
	struct section_walk w = { sec, NULL };
	bool empty;

	if (!loader_expect(ld, map, FYNT_MAPPING, prefix, kline, "a mapping", &empty))
		return;
	w.part = sec->create();
	for (size_t i = 0; i < sec->n_keys; i++) {
		const struct config_key *ck = &sec->keys[i];
		/* A default the schema refuses is a bug in the owner's table. */
		if (ck->def && !schema_set(&ck->schema, w.part, ck->def, strlen(ck->def), problem, sizeof(problem)))
			loader_err(ld, 0, ck->schema.key, "internal error: default \"%s\": %s", ck->def, problem);
	}
	mapping_each(ld, map, prefix, kline, load_section_key, &w);
	sec->attach(ld->cfg, w.part);
}

/* One key of a mapping of keys: the top level (ctx NULL) or a section of
 * the schema (ctx its name, "limits"): a key of the schema, a
 * collection, a registered section or a schema section's mapping. */
static void load_mapping_key(struct loader *ld, const char *k, size_t klen, struct fy_node *v, const char *name,
			     int kline, void *ctx)
{
	const char *prefix = ctx;
	char raw[LOADER_NAME_SIZE];
	const struct schema_key *sk = NULL;
	const struct lists_entry *coll = NULL;
	const struct config_section *sec = NULL;
	bool word = key_is_word(k, klen), empty;

	if (word) {
		snprintf(raw, sizeof(raw), "%s%s%.*s", prefix ? prefix : "", prefix ? "." : "", (int)klen, k);
		sk = schema_find(raw, strlen(raw));
		coll = lists_find(raw, strlen(raw));  /* raw has the section: "dns.servers" */
		sec = prefix ? NULL : section_find(raw, strlen(raw));
	}
	if (sk) {
		load_scalar(ld, sk, v, name, kline);
	} else if (coll) {
		coll->load(ld, v, name, kline);
	} else if (sec && sec->load_value) {
		sec->load_value(ld, v, name, kline);
	} else if (sec) {
		load_section(ld, sec, v, name, kline);
	} else if (word && schema_is_section(raw, strlen(raw))) {
		if (loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping", &empty) && !empty)
			mapping_each(ld, v, raw, kline, load_mapping_key, raw);
	} else {
		loader_err(ld, kline, name, "unknown key");
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
			char msg[LOADER_SHOW_SIZE];
			loader_show(msg, sizeof(msg), de->msg ? de->msg : "", de->msg ? strlen(de->msg) : 0);
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
				  loader_line(fy_document_root(extra), 1));
	} else if (doc && fy_document_root(doc)) {
		struct fy_node *root = fy_document_root(doc);
		if (loader_is_null(root))
			; /* an empty document: nothing to override */
		else if (!fy_node_is_mapping(root) || fy_node_is_alias(root))
			config_errors_add(ld->errs, "%s:%d: the configuration must be a mapping of keys to values",
					  ld->file, loader_line(root, 1));
		else
			mapping_each(ld, root, NULL, 1, load_mapping_key, NULL);
		if (ld->user)
			levels_apply(ld);  /* SCAN-11: over everything the file set */
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

/* The line of the first byte that is not UTF-8 text (a malformed
 * sequence, or a C1 control), in *byte; 0 if there is none. YAML is
 * UTF-8, and libfyaml loops forever on some bytes that are not (a
 * directive "%" followed by 0x8F, found by fuzz_config). */
static int first_non_utf8_line(const char *buf, size_t len, unsigned char *byte)
{
	int line = 1;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)buf[i];
		size_t n = c < 0x80 ? 1 : utf8_seq_len((const unsigned char *)buf + i, len - i);
		if (n == 0) {
			*byte = c;
			return line;
		}
		line += c == '\n';
		i += n;
	}
	return 0;
}

static void load_file(struct loader *ld, const char *path)
{
	const char *nul;
	char *buf;
	size_t len;

	if (!read_file(ld, path, &buf, &len))
		return;
	/* YAML forbids NUL; say so plainly instead of leaving it to the parser. */
	unsigned char bad;
	int bad_line;
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		int line = 1;
		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		config_errors_add(ld->errs, "%s:%d: the file contains a NUL byte: not a text file?", path, line);
	} else if ((bad_line = first_non_utf8_line(buf, len, &bad)) > 0) {
		config_errors_add(ld->errs, "%s:%d: byte 0x%02X is not UTF-8 text (a configuration file is UTF-8)",
				  path, bad_line, bad);
	} else {
		sha256_hex(buf, len, ld->cfg->source_sha256);  /* what ctl status shows (issue 15) */
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

void loader_resolve_path(struct loader *ld, const char *path, char **field, const char *key)
{
	char cwd[PATH_MAX];
	char *dir, *joined;
	const char *slash;

	if (!*field || *field[0] == '/') {
		if (*field) {
			char *clean = path_clean(*field);
			free(*field);
			*field = clean;
		}
		return;
	}
	slash = path ? strrchr(path, '/') : NULL;
	if (slash && path[0] == '/') {
		dir = xstrndup(path, (size_t)(slash - path) + 1);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			config_errors_add(ld->errs, "%s: %s: cannot make %s absolute: %s", ld->file, key,
					  *field, strerror(errno));
			return;
		}
		size_t dlen = slash ? (size_t)(slash - path) : 0;
		dir = xmalloc(strlen(cwd) + dlen + 2);
		snprintf(dir, strlen(cwd) + dlen + 2, "%s/%.*s", cwd, (int)dlen, path ? path : "");
	}
	size_t jlen = strlen(dir) + strlen(*field) + 2;
	joined = xmalloc(jlen);
	snprintf(joined, jlen, "%s/%s", dir, *field);
	free(dir);
	free(*field);
	*field = path_clean(joined);
	free(joined);
}

static void resolve_files(struct loader *ld, const char *path)
{
	struct config *c = ld->cfg;
	for (size_t i = 0; i < c->n_certificates; i++) {
		loader_resolve_path(ld, path, &c->certificates[i].cert, "certificates.cert");
		loader_resolve_path(ld, path, &c->certificates[i].key, "certificates.key");
	}
	loader_resolve_path(ld, path, &c->auth.credentials, "auth.credentials");
	loader_resolve_path(ld, path, &c->auth.sender_logins, "auth.sender_logins");
	loader_resolve_path(ld, path, &c->outbound_tls.ca_file, "outbound_tls.ca_file");
	loader_resolve_path(ld, path, &c->outbound_tls.mta_sts.ca_file, "outbound_tls.mta_sts.ca_file");
	loader_resolve_path(ld, path, &c->outbound_tls.dane.trust_anchor, "outbound_tls.dane.trust_anchor");
}

static void resolve_state_dir(struct loader *ld, const char *path)
{
	loader_resolve_path(ld, path, &ld->cfg->state_dir, "state_dir");
}

int loader_set_line(const struct loader *ld, const char *key)
{
	long slot = key_slot(key);
	return slot >= 0 ? ld->set_line[slot] : 0;
}

static void resolve_hostname(struct loader *ld)
{
	char name[HOST_NAME_MAX + 1], shown[LOADER_SHOW_SIZE];
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
		loader_show(shown, sizeof(shown), name, strlen(name));
		config_errors_add(ld->errs, "%s: hostname: the machine's name \"%s\" is unusable (%s); set hostname",
				  ld->file, shown, why);
		return;
	}
	ld->cfg->hostname = xstrdup(name);
}

/* What is known only once everything is read: REL-1's open-relay errors
 * (unless allow_open_relay), then each section's own checks. */
static void cross_check(struct loader *ld)
{
	const struct config *c = ld->cfg;

	for (size_t i = 0; i < ld->open_relay.n && !c->allow_open_relay; i++)
		config_errors_add(ld->errs, "%s", ld->open_relay.items[i]);
	config_errors_free(&ld->open_relay);
	for (const struct config_section *const *s = config_sections; *s; s++)
		if ((*s)->check)
			(*s)->check(ld);
}

/* The configuration of path (NULL: the embedded default) with level's
 * overrides applied (0: as written), finished and cross-checked. */
static struct config *load_level(const char *path, size_t level, struct config_errors *errs, size_t *n_levels)
{
	struct config *c = xcalloc(1, sizeof(*c));
	size_t before = errs->n;
	struct loader ld = {
		.cfg = c,
		.errs = errs,
		.file = CONFIG_DEFAULT_SOURCE,
		.set_line = xcalloc(section_slot(NULL), sizeof(int)),
		.user = false,
		.level = level,
	};

	c->source = xstrdup(path ? path : CONFIG_DEFAULT_SOURCE);
	load_text(&ld, config_default_yaml, strlen(config_default_yaml));
	if (path) {
		ld.file = path;
		ld.user = true;
		load_file(&ld, path);
	} else {
		char *scan = config_default_scan_yaml();
		load_text(&ld, scan, strlen(scan));
		free(scan);
	}
	resolve_hostname(&ld);
	resolve_state_dir(&ld, path);
	resolve_files(&ld, path);
	levels_finish(&ld);
	partners_finish(&ld);
	for (const struct config_section *const *s = config_sections; *s; s++)
		if ((*s)->finish)
			(*s)->finish(&ld, path);
	cross_check(&ld);
	c->key_lines = ld.set_line;
	*n_levels = c->emergency.n_levels;
	if (errs->n != before) {
		config_free(c);
		return NULL;
	}
	return c;
}

static bool error_known(const struct config_errors *errs, const char *e)
{
	for (size_t i = 0; i < errs->n; i++)
		if (strcmp(errs->items[i], e) == 0)
			return true;
	return false;
}

/* Level n of path: its snapshot, or NULL with its problems added to errs,
 * except those errs has already (the file's own, found for every level). */
static struct config *load_other_level(const char *path, size_t n, struct config_errors *errs)
{
	struct config_errors mine = { 0 };
	size_t n_levels;
	struct config *c = load_level(path, n, &mine, &n_levels);
	for (size_t i = 0; i < mine.n; i++)
		if (!error_known(errs, mine.items[i]))
			config_errors_add(errs, "%s", mine.items[i]);
	config_errors_free(&mine);
	return c;
}

/* SCAN-11: every level beyond 0 is the same file loaded again with its
 * overrides: a whole snapshot, checked as if it were active. The levels
 * are checked even when the file has problems, so one run reports all. */
struct config *config_load(const char *path, struct config_errors *errs)
{
	size_t n_levels;
	struct config *c = load_level(path, 0, errs, &n_levels);
	bool ok = c != NULL;

	for (size_t i = 1; i < n_levels; i++) {
		struct config *lv = load_other_level(path, i, errs);
		ok = ok && lv;
		if (c)
			c->emergency.levels[i].cfg = lv;
		else
			config_free(lv);
	}
	if (!ok) {
		config_free(c);
		return NULL;
	}
	return c;
}

/* ---- queries ----------------------------------------------------------- */

/* Does domain (any case) end in the lower-case text d of dlen bytes? */
static bool ends_in(const char *domain, size_t len, const char *d, size_t dlen)
{
	if (dlen > len)
		return false;
	const char *tail = domain + len - dlen;
	for (size_t j = 0; j < dlen; j++) {
		char a = tail[j];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != d[j])
			return false;
	}
	return true;
}

/* An entry "example.org" matches that domain; ".example.org" every
 * subdomain (at least one label before the dot). */
static bool domain_in(char *const *list, size_t n, const char *domain, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		const char *d = list[i];
		size_t dlen = strlen(d);

		if (d[0] == '.' ? len > dlen && ends_in(domain, len, d, dlen)
				: len == dlen && ends_in(domain, len, d, dlen))
			return true;
	}
	return false;
}

bool config_is_local_domain(const struct config *c, const char *domain, size_t len)
{
	return domain_in(c->local_domains, c->n_local_domains, domain, len);
}

const char *config_postmaster_domain(const struct config *c)
{
	for (size_t i = 0; i < c->n_local_domains; i++)
		if (c->local_domains[i][0] != '.')
			return c->local_domains[i];
	return c->hostname;
}

bool config_tls_required_domain(const struct config *c, const char *domain, size_t len)
{
	return domain_in(c->tls_required_domains, c->n_tls_required_domains, domain, len);
}

int config_key_line(const struct config *c, const char *key)
{
	long slot = key_slot(key);
	return slot >= 0 && c->key_lines ? c->key_lines[slot] : 0;
}

const struct listener_cfg *config_listener(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_listeners; i++)
		if (name && strcmp(c->listeners[i].name, name) == 0)
			return &c->listeners[i];
	return NULL;
}

const struct config *config_ref(const struct config *c)
{
	((struct config *)c)->refs++;  /* the count is not part of the snapshot's value */
	return c;
}

void config_unref(const struct config *c)
{
	config_free((struct config *)c);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	if (c->refs > 0) {
		c->refs--;
		return;
	}
	levels_free(c);
	free(c->emergency.state_file);
	free(c->emergency.notify);
	free(c->metrics.listen);
	partners_free(c);
	free(c->key_lines);
	free(c->source);
	free(c->hostname);
	free(c->state_dir);
	free(c->user);
	free(c->smtpd_user);
	free(c->scanner_user);
	lists_free_listeners(c->listeners, c->n_listeners);
	lists_free_domains(c->local_domains, c->n_local_domains);
	cidr_list_free(&c->trusted_networks);
	free(c->tls.ciphers);
	lists_free_certificates(c->certificates, c->n_certificates);
	lists_free_domains(c->tls_required_domains, c->n_tls_required_domains);
	free(c->outbound_tls.ca_file);
	free(c->outbound_tls.mta_sts.ca_file);
	free(c->outbound_tls.dane.trust_anchor);
	free(c->outbound_tls.dane.resolver);
	free(c->outbound_tls.tlsrpt.from);
	free(c->outbound_tls.tlsrpt.organization);
	free(c->outbound_tls.tlsrpt.contact);
	free(c->auth.credentials);
	free(c->auth.sender_logins);
	for (const struct config_section *const *s = config_sections; *s; s++)
		(*s)->release(c);
	free(c->rewrite_table);
	free(c->dns.servers);
	free(c);
}

struct config *config_load_or_report(const char *path)
{
	struct config_errors errs = { 0 };
	struct config *c = config_load(path, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.items[i]);
	config_errors_free(&errs);
	return c;
}
