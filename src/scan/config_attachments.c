/*
 * See config_attachments.h.
 */
#include "scan/config_attachments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/loader.h"
#include "config/mapping.h"
#include "content/attach_class.h"
#include "scan/policy.h"
#include "util/alloc.h"

/* Call item(ld, text, len, line, iname, a) for each scalar of the list v. */
static void each_item(struct loader *ld, struct fy_node *v, const char *name, int kline, struct scan_attachments *a,
		      void (*item)(struct loader *, const char *, size_t, int, const char *, struct scan_attachments *))
{
	bool empty;
	if (!loader_expect(ld, v, FYNT_SEQUENCE, name, kline, "a list", &empty) || empty)
		return;
	void *it = NULL;
	struct fy_node *n;
	for (size_t i = 0; (n = fy_node_sequence_iterate(v, &it)) != NULL; i++) {
		char iname[LOADER_NAME_SIZE + 24];
		snprintf(iname, sizeof(iname), "%s[%zu]", name, i);
		const char *s;
		size_t len;
		int line;
		if (loader_scalar(ld, n, iname, loader_line(n, kline), &s, &len, &line))
			item(ld, s, len, line, iname, a);
	}
}

static void add_class(struct loader *ld, const char *s, size_t len, int line, const char *iname,
		      struct scan_attachments *a)
{
	uint32_t c = attach_class_parse(s, len);
	if (c)
		a->forbid_classes |= c;
	else
		loader_err(ld, line, iname,
			   "unknown class (executable, script, shortcut, diskimage, macro, archive, encrypted)");
}

/* An extension as written ("zip", ".ZIP"): stored lower case without the dot. */
static void add_extension(struct loader *ld, const char *s, size_t len, int line, const char *iname,
			  struct scan_attachments *a)
{
	if (len && s[0] == '.') {
		s++;
		len--;
	}
	bool ok = len > 0 && len < 16;
	for (size_t i = 0; ok && i < len; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		     s[i] == '-' || s[i] == '_';
	if (!ok) {
		loader_err(ld, line, iname, "not a file extension (1-15 letters, digits, '-' or '_', e.g. zip)");
		return;
	}
	if (a->n_forbid_extensions >= ATTACH_EXTENSIONS_MAX) {
		loader_err(ld, line, iname, "more than %d extensions", ATTACH_EXTENSIONS_MAX);
		return;
	}
	char *e = xstrndup(s, len);
	for (char *p = e; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	a->forbid_extensions = xreallocarray(a->forbid_extensions, a->n_forbid_extensions + 1, sizeof(char *));
	a->forbid_extensions[a->n_forbid_extensions++] = e;
}

static void load_forbid_classes(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	struct scan_attachments *a = field;
	a->forbid_classes = 0;  /* the list replaces the default */
	each_item(ld, v, name, kline, a, add_class);
}

static void load_forbid_extensions(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	each_item(ld, v, name, kline, field, add_extension);
}

static const struct mapping_key attachments_keys[] = {
	{ "forbid_classes", load_forbid_classes, 0 },
	{ "forbid_extensions", load_forbid_extensions, 0 },
};

void config_attachments_load(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part)
{
	struct scan_config *sc = part;
	bool empty;
	if (!loader_expect(ld, v, FYNT_MAPPING, name, kline, "a mapping with forbid_classes, forbid_extensions",
			   &empty))
		return;
	struct scan_attachments *a = xcalloc(1, sizeof(*a));
	a->forbid_classes = ATTACH_CLASS_DEFAULT_FORBIDDEN;
	a->line = ld->user ? kline : 0;
	if (!empty)
		MAPPING_LOAD(ld, v, name, kline, attachments_keys, a);
	config_attachments_free(sc->attachments);
	sc->attachments = a;
}

void config_attachments_free(struct scan_attachments *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_forbid_extensions; i++)
		free(a->forbid_extensions[i]);
	free(a->forbid_extensions);
	free(a);
}
