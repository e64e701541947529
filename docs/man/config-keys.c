/*
 * mailwarden-config-keys: the scalar keys of the configuration, read from
 * the tables the loader itself uses (config/schema.c's schema_keys[] and
 * each registered section's keys), written as scdoc for
 * mailwarden.yaml(5). A build tool, never installed: the man page cannot
 * name a key the loader does not know, nor miss one it does.
 *
 *   mailwarden-config-keys            the key reference (scdoc)
 *   mailwarden-config-keys --sections every top-level key, one a line
 *   mailwarden-config-keys --checks   the check names of scan.<direction>.checks (scdoc)
 *
 * Defaults: a section's from its table; a top-level key's as the embedded
 * default configuration writes it (config_default_yaml), else none.
 */
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/lists.h"
#include "config/schema.h"
#include "config/section.h"
#include "content/check.h"
#include "scan/scan.h"

/* "size, 512 to 64k" / "one of: kv, json" / "string, 1 to 253 bytes". */
static void type_text(const struct schema_key *k, char *buf, size_t size)
{
	static const char *const names[] = { [SCHEMA_STRING] = "string", [SCHEMA_UINT] = "number",
					     [SCHEMA_SIZE] = "size",     [SCHEMA_DURATION] = "duration",
					     [SCHEMA_ENUM] = "one of",   [SCHEMA_BOOL] = "boolean" };
	char lo[32], hi[32];
	size_t used = (size_t)snprintf(buf, size, "_%s_", names[k->type]);
	if (k->type == SCHEMA_ENUM) {
		for (const struct schema_enum *e = k->values; e->name && used < size; e++)
			used += (size_t)snprintf(buf + used, size - used, "%s %s", e == k->values ? ":" : ",", e->name);
		return;
	}
	if (k->type == SCHEMA_BOOL)
		return;
	schema_format_bound(k->type, k->min, lo, sizeof(lo));
	schema_format_bound(k->type, k->max, hi, sizeof(hi));
	snprintf(buf + used, size - used, ", %s to %s%s", lo, hi, k->type == SCHEMA_STRING ? " bytes" : "");
}

/* The embedded default's value of a dotted key, or NULL. */
static const char *default_of(struct fy_document *def, const char *key, char *buf, size_t size)
{
	char path[256] = "/";
	for (size_t i = 0; key[i] && i + 2 < sizeof(path); i++)
		path[i + 1] = key[i] == '.' ? '/' : key[i];
	struct fy_node *n = fy_node_by_path(fy_document_root(def), path, FY_NT, FYNWF_PTR_DEFAULT);
	size_t len;
	const char *text = n && fy_node_is_scalar(n) ? fy_node_get_scalar(n, &len) : NULL;
	if (!text)
		return NULL;
	snprintf(buf, size, "%.*s", (int)len, text);
	return buf;
}

/* One entry: the key in bold, type and default, the help indented. A
 * backslash or a leading '*' or '_' in the text would be scdoc markup. */
static void print_key(const char *prefix, const struct schema_key *k, const char *def)
{
	char type[256];
	type_text(k, type, sizeof(type));
	printf("*%s%s%s* (%s", prefix ? prefix : "", prefix ? "." : "", k->key, type);
	if (def)
		printf("; default: %s", def);
	printf(")\n\t");
	for (const char *h = k->help; *h; h++)
		printf("%s%c", strchr("\\*_", *h) ? "\\" : "", *h);
	printf("\n\n");
}

static int print_reference(void)
{
	struct fy_document *def = fy_document_build_from_string(NULL, config_default_yaml, FY_NT);
	if (!def) {
		fprintf(stderr, "mailwarden-config-keys: the embedded default does not parse\n");
		return 1;
	}
	char buf[256];
	for (size_t i = 0; i < schema_n_keys; i++)
		print_key(NULL, &schema_keys[i], default_of(def, schema_keys[i].key, buf, sizeof(buf)));
	for (const struct config_section *const *s = config_sections; *s; s++)
		for (size_t i = 0; i < (*s)->n_keys; i++)
			print_key((*s)->key, &(*s)->keys[i].schema, (*s)->keys[i].def);
	fy_document_destroy(def);
	return 0;
}

/* Every top-level key once: the scalar keys' first part, the lists, the
 * sections. */
static void print_sections(void)
{
	const char *seen[256];
	size_t n_seen = 0, n_lists;
	const struct lists_entry *lists = lists_all(&n_lists);
	size_t total = schema_n_keys + n_lists;
	for (const struct config_section *const *s = config_sections; *s; s++)
		total++;
	for (size_t i = 0; i < total && n_seen < sizeof(seen) / sizeof(seen[0]); i++) {
		const char *key = i < schema_n_keys ? schema_keys[i].key
				  : i < schema_n_keys + n_lists ? lists[i - schema_n_keys].key
								 : config_sections[i - schema_n_keys - n_lists]->key;
		size_t len = strcspn(key, ".");
		bool dup = false;
		for (size_t j = 0; j < n_seen && !dup; j++)
			dup = strcspn(seen[j], ".") == len && strncmp(seen[j], key, len) == 0;
		if (!dup) {
			printf("%.*s\n", (int)len, key);
			seen[n_seen++] = key;
		}
	}
}

/* The names scan.inbound.checks takes, from the two registries. */
static void print_checks(void)
{
	printf("SMTP-time checks:");
	for (size_t i = 0; i < scan_n_checks; i++)
		printf("%s *%s*", i ? "," : "", scan_checks[i]->name);
	printf(".\n\nContent checks:");
	for (size_t i = 0; i < content_n_checks; i++)
		printf("%s *%s*", i ? "," : "", content_checks[i]->name);
	printf(".\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--checks") == 0) {
		print_checks();
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--sections") == 0) {
		print_sections();
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: mailwarden-config-keys [--sections|--checks]\n");
		return 2;
	}
	return print_reference();
}
