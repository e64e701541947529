/*
 * The scan: section's files and lists of mappings: see config_lists.h.
 */
#include "scan/config_lists.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"
#include "config/mapping.h"
#include "scan/config_value.h"
#include "scan/policy.h"
#include "util/alloc.h"
#include "verdict/points.h"

/* A scanner file as a mapping is read into: file and optional. */
struct file_entry {
	char *path;
	struct scan_file_meta meta;
};

static void load_file_path(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct file_entry *fe = field;
	if (scan_value_path(ld, v, name, kline, &fe->path) && ld->user)
		fe->meta.line = kline;
}

static void load_file_optional(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct file_entry *fe = field;
	scan_value_bool(ld, v, name, kline, &fe->meta.optional);
}

static const struct mapping_key file_keys[] = {
	{ "file", load_file_path, 0 },
	{ "optional", load_file_optional, 0 },
};

/* ip_allow, ip_deny, recipients: a path, or {file: PATH, optional: true}. */
static void load_file(struct loader *ld, struct fy_node *v, const char *name, int kline, char **path,
		      struct scan_file_meta *meta)
{
	*meta = (struct scan_file_meta){ .line = ld->user ? kline : 0 };
	if (!fy_node_is_mapping(v)) {
		scan_value_path(ld, v, name, kline, path);
		return;
	}
	struct file_entry fe = { .path = *path, .meta = *meta };
	MAPPING_LOAD(ld, v, name, kline, file_keys, &fe);
	*path = fe.path;
	*meta = fe.meta;
	if (!*path)
		loader_err(ld, kline, name, "file is required");
}

void scan_config_load_ip_allow(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	load_file(ld, v, name, kline, &sc->ip_allow, &sc->file_meta[SCAN_FILE_ALLOW]);
}

void scan_config_load_ip_deny(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	load_file(ld, v, name, kline, &sc->ip_deny, &sc->file_meta[SCAN_FILE_DENY]);
}

void scan_config_load_recipients(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	load_file(ld, v, name, kline, &sc->recipients, &sc->file_meta[SCAN_FILE_RCPTS]);
}

/* rbl_files:, dnsbl: a list of mappings (expected says so in the
 * message when v is not a list). Each item is named "name[i]" in messages
 * and reported at its own line, one without a line of its own ("- {}") at
 * the line of the one before; an item that is not a mapping is reported
 * (item_expected), a null one skipped, every other goes to load_item().
 * Once *count (the caller's list, which grows as items load) has
 * SCAN_LIST_MAX entries, the next item is refused with "more than
 * SCAN_LIST_MAX what" and the rest is not read. */
static void load_mapping_list(struct loader *ld, struct fy_node *v, const char *name, int kline,
			      const char *expected, const char *item_expected, const size_t *count,
			      const char *what, struct scan_config *sc,
			      void (*load_item)(struct loader *ld, struct fy_node *item, const char *iname, int iline,
						struct scan_config *sc))
{
	bool empty;
	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, expected, &empty) || empty)
		return;
	void *it = NULL;
	struct fy_node *item;
	int prev = kline;
	for (size_t i = 0; (item = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[LOADER_NAME_SIZE + 24];
		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		prev = loader_line(item, prev);
		if (*count >= SCAN_LIST_MAX) {
			loader_err(ld, prev, iname, "more than %d %s", SCAN_LIST_MAX, what);
			return;
		}
		if (!loader_expect(ld, item, FYNT_MAPPING, iname, prev, item_expected, &empty) || empty)
			continue;
		load_item(ld, item, iname, prev, sc);
	}
}

/* An rbl_files: entry as it is read: the zone and its file's keys. */
struct rbl_entry {
	struct scan_rbl_file f;
	struct file_entry file;
};

static void load_rbl_name(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_text(ld, v, name, kline, field, 64);
}

/* type: the zone file's format; only dnset changes how it is read. */
static void load_rbl_type(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	bool *dnset = field;
	char *type = NULL;
	if (scan_value_text(ld, v, name, kline, &type, 16)) {
		if (strcmp(type, "dnset") == 0)
			*dnset = true;
		else if (strcmp(type, "ip4set") != 0 && strcmp(type, "ip4tset") != 0)
			loader_err(ld, kline, name, "must be one of: ip4set, ip4tset, dnset");
	}
	free(type);
}

#define RBL_OFF(field) offsetof(struct rbl_entry, field)
static const struct mapping_key rbl_file_keys[] = {
	{ "file", load_file_path, RBL_OFF(file) },
	{ "name", load_rbl_name, RBL_OFF(f.name) },
	{ "points", scan_value_load_points, RBL_OFF(f.points) },
	{ "type", load_rbl_type, RBL_OFF(f.dnset) },
	{ "optional", load_file_optional, RBL_OFF(file) },
	{ "exempt_authenticated", scan_value_load_bool, RBL_OFF(f.exempt_authenticated) },
};

/* One rbl_files: entry, {file, name, points, type, optional, exempt_authenticated}. */
static void load_rbl_file(struct loader *ld, struct fy_node *item, const char *iname, int prev,
			  struct scan_config *sc)
{
	struct rbl_entry e = { .f = { .points = 10 * POINTS_ONE }, .file = { .meta = { .line = ld->user ? prev : 0 } } };
	MAPPING_LOAD(ld, item, iname, prev, rbl_file_keys, &e);
	struct scan_rbl_file f = e.f;
	f.path = e.file.path;
	if (!f.path) {
		loader_err(ld, prev, iname, "file is required");
		free(f.name);
		return;
	}
	if (!f.name) {
		const char *slash = strrchr(f.path, '/');
		f.name = xstrdup(slash ? slash + 1 : f.path);
	}
	sc->file_meta[SCAN_FILE_ZONES + sc->n_rbl_files] = e.file.meta;
	sc->rbl_files = xreallocarray(sc->rbl_files, sc->n_rbl_files + 1, sizeof(*sc->rbl_files));
	sc->rbl_files[sc->n_rbl_files++] = f;
}

/* One entry of a zone's codes: 127.0.0.x: POINTS. */
static void load_dnsbl_code(struct loader *ld, const char *k, size_t klen, struct fy_node *val, const char *kname,
			    int kl, void *ctx)
{
	struct scan_dnsbl *bl = ctx;
	char code[32];
	snprintf(code, sizeof(code), "%.*s", (int)(klen < 31 ? klen : 31), k);
	struct in_addr a;
	if (inet_pton(AF_INET, code, &a) != 1) {
		loader_err(ld, kl, kname, "not an IPv4 address");
		return;
	}
	if (bl->n_codes >= 16) {
		loader_err(ld, kl, kname, "more than 16 codes");
		return;
	}
	memcpy(bl->codes[bl->n_codes].code, &a, 4);
	if (scan_value_points(ld, val, kname, kl, -1000, 1000, &bl->codes[bl->n_codes].points))
		bl->n_codes++;
}

static void load_dnsbl_codes(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping of 127.0.0.x to points", &empty) || empty)
		return;
	mapping_each(ld, v, name, kline, load_dnsbl_code, field);
}

static const struct mapping_key dnsbl_keys[] = {
	{ "zone", scan_value_load_domain, offsetof(struct scan_dnsbl, zone) },
	{ "points", scan_value_load_points, offsetof(struct scan_dnsbl, points) },
	{ "codes", load_dnsbl_codes, 0 },
};

/* One dnsbl: entry, {zone, points, codes}. */
static void load_dnsbl_zone(struct loader *ld, struct fy_node *item, const char *iname, int prev,
			    struct scan_config *sc)
{
	struct scan_dnsbl bl = { .points = 10 * POINTS_ONE };
	bool zone_given = MAPPING_LOAD(ld, item, iname, prev, dnsbl_keys, &bl) & MAPPING_BIT(dnsbl_keys, "zone");
	if (!bl.zone) {
		if (!zone_given)
			loader_err(ld, prev, iname, "zone is required");
		return;
	}
	sc->dnsbls = xreallocarray(sc->dnsbls, sc->n_dnsbls + 1, sizeof(*sc->dnsbls));
	sc->dnsbls[sc->n_dnsbls++] = bl;
}

void scan_config_load_rbl_files(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	load_mapping_list(ld, v, name, kline, "a list of {file, name, points}", "a mapping with file, name, points",
			  &((struct scan_config *)part)->n_rbl_files, "zone files", part, load_rbl_file);
}

void scan_config_load_dnsbl(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	load_mapping_list(ld, v, name, kline, "a list of {zone, points, codes}", "a mapping with zone, points, codes",
			  &((struct scan_config *)part)->n_dnsbls, "zones", part, load_dnsbl_zone);
}

static void load_dkim_key_file(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_text(ld, v, name, kline, field, 4095);
}

static const struct mapping_key dkim_keys[] = {
	{ "domain", scan_value_load_domain, offsetof(struct scan_dkim_key, domain) },
	/* RFC 6376 3.1: a selector is dot-separated labels, as a domain */
	{ "selector", scan_value_load_domain, offsetof(struct scan_dkim_key, selector) },
	{ "key", load_dkim_key_file, offsetof(struct scan_dkim_key, key) },
};

/* One dkim_sign: entry, {domain, selector, key}. */
static void load_dkim_key(struct loader *ld, struct fy_node *item, const char *iname, int prev,
			  struct scan_config *sc)
{
	struct scan_dkim_key k = { .line = ld->user ? prev : 0 };
	unsigned seen = MAPPING_LOAD(ld, item, iname, prev, dkim_keys, &k);
	if (!k.domain || !k.selector || !k.key) {
		if (seen != 7)  /* a key given with a bad value is reported once, as bad */
			loader_err(ld, prev, iname, "domain, selector and key are required");
		free(k.domain);
		free(k.selector);
		free(k.key);
		return;
	}
	sc->dkim_sign = xreallocarray(sc->dkim_sign, sc->n_dkim_sign + 1, sizeof(*sc->dkim_sign));
	sc->dkim_sign[sc->n_dkim_sign++] = k;
}

void scan_config_load_dkim_sign(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	load_mapping_list(ld, v, name, kline, "a list of {domain, selector, key}",
			  "a mapping with domain, selector, key", &((struct scan_config *)part)->n_dkim_sign,
			  "signing keys", part, load_dkim_key);
}
