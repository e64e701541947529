/*
 * Sections of the configuration owned by a layer above config/: the owner
 * (scan/ for "scan:", ...) declares the section's keys, their defaults and
 * the parser of what is not a scalar, and config/ walks it with the same
 * loader and schema machinery as every other key (same file:line: key:
 * problem messages), without including anything of the owner.
 *
 * The owner's part of struct config is a pointer to a type config/ only
 * forward-declares; the section's callbacks are the only code that makes,
 * fills and frees it.
 *
 * The list of sections, config_sections[], is assembled in one place
 * above every owner (master/sections.c): adding a section is one line
 * there and nothing in config/.
 */
#ifndef MW_CONFIG_SECTION_H
#define MW_CONFIG_SECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "config/schema.h"

struct config;
struct config_errors;
struct fy_node;
struct loader;

/* A scalar key of a section: the schema entry (its key relative to the
 * section, its offset into the owner's part) and its default as the
 * administrator would write it ("2000"), set before the section is read,
 * or NULL: unset. Defaults live here because the part exists only when
 * the section is written, so the embedded default YAML cannot hold them. */
struct config_key {
	struct schema_key schema;
	const char *def;
};

struct config_section {
	const char *key;                  /* top-level key: "scan" */
	/* A section whose value is not a mapping of keys (routes: maps
	 * domains to next hops): parse the whole value v into the owner's
	 * part of ld->cfg, replacing it, and report every problem. When set,
	 * keys, create, load and attach are not used. */
	void (*load_value)(struct loader *ld, struct fy_node *v, const char *name, int kline);
	/* Scalar keys of the section, set through schema_set(). */
	const struct config_key *keys;
	size_t n_keys;
	/* A new, zeroed part; the loader then sets the keys' defaults. */
	void *(*create)(void);
	/* Optional: a key of the section that is not in keys (a list, a
	 * mapping): parse v into part and report every problem; false: no
	 * such key (the loader reports "unknown key", as it does when load
	 * is NULL). */
	bool (*load)(struct loader *ld, void *part, const char *k, size_t klen, struct fy_node *v,
		     const char *name, int kline);
	/* Make part c's section, freeing the one there (a section the user
	 * writes replaces the default's whole section). */
	void (*attach)(struct config *c, void *part);
	/* Optional, after every file is read, in config_sections[] order:
	 * make the section's file names absolute (loader_resolve_path(); path
	 * is the configuration file, or NULL for the embedded default), read
	 * the tables they name, parse what depends on other keys. */
	void (*finish)(struct loader *ld, const char *path);
	/* Optional, last, after config/'s own cross-checks: problems that
	 * depend on several keys of the section (queue.retry_max against
	 * queue.retry_min); loader_set_line() names the lines to blame. */
	void (*check)(struct loader *ld);
	/* Optional (SCAN-11, config/levels.c): an emergency level's value v
	 * for this section (name: "emergency.levels[1].scan"), applied over
	 * the section as loaded (not replacing it); report every problem,
	 * including keys a level may not change. Without it a level cannot
	 * change the section. */
	void (*level_merge)(struct loader *ld, struct fy_node *v, const char *name, int kline);
	/* Optional: append "  key: base -> level" lines to out for what the
	 * level's snapshot lv changes in the section against base
	 * (check-config --levels). */
	void (*level_describe)(const struct config *base, const struct config *lv, struct config_errors *out);
	/* Free c's part (config_free()). */
	void (*release)(struct config *c);
	/* Optional: append "source: warning: ..." lines about c's part to out
	 * (config_warnings(), after its own). */
	void (*warn)(const struct config *c, struct config_errors *out);
};

/* Every registered section, ended by NULL; defined above all owners. */
extern const struct config_section *const config_sections[];

#endif
