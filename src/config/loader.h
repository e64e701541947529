/*
 * The loader's state and the YAML node helpers shared by the walk
 * (config.c), the collection parsers (lists.c) and the parsers of the
 * sections other layers register (section.h).
 * Every helper that can fail reports the problem itself, as
 * "file:line: key: problem", and returns false; callers just skip the
 * entry and go on, so that one run reports every error.
 */
#ifndef MW_CONFIG_LOADER_H
#define MW_CONFIG_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <libfyaml.h>

#include "config/config.h"

#define LOADER_SHOW_MAX 64                        /* bytes of file text quoted in a message */
#define LOADER_SHOW_SIZE (LOADER_SHOW_MAX * 4 + 4) /* every byte as \xNN, plus "..." */
#define LOADER_NAME_SIZE 512                      /* a dotted key name for messages */

struct loader {
	struct config *cfg;
	struct config_errors *errs;
	const char *file;  /* name used in messages */
	int *set_line;     /* per key (the schema's, then each section's): line in the user's file that set it, 0 if none */
	bool user;         /* reading the user's file rather than the embedded default */
	struct config_errors open_relay; /* REL-1: errors unless allow_open_relay (known at the end) */
	/* SCAN-11 (config/levels.c): the level being built (0: the
	 * configuration as written) and, while the user's file is parsed,
	 * that level's entry, applied once the whole file is read. */
	size_t level;
	struct fy_node *level_entry;
	char level_name[LOADER_NAME_SIZE];   /* "emergency.levels[2]", for messages */
};

/* Report "file:line: key: problem" (or "file: key: problem" if line is 0). */
void loader_err(struct loader *ld, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Text from the file, made safe to print: printable ASCII as is, every
 * other byte (and '\\') as \xNN, cut after LOADER_SHOW_MAX bytes with "...". */
void loader_show(char *out, size_t size, const char *s, size_t len);

/* "prefix.key" (or "key" if prefix is NULL) with the key escaped. */
void loader_key_name(char *out, size_t size, const char *prefix, const char *k, size_t klen);

/* The 1-based line where node n starts, or fallback if it has none. */
int loader_line(struct fy_node *n, int fallback);

bool loader_text_is(const char *s, size_t len, const char *word);

/* The index of the scalar v among words[0..n), or -1 after reporting
 * "must be one of: w0, w1, ..." (or why v is not a single value). */
int loader_word(struct loader *ld, struct fy_node *v, const char *name, int kline, const char *const *words,
		size_t n);

/* An empty value, or a plain "~" / "null". */
bool loader_is_null(struct fy_node *n);

/* The text of a scalar value (*s, *len, and its *line). */
bool loader_scalar(struct loader *ld, struct fy_node *v, const char *name, int kline,
		   const char **s, size_t *len, int *line);

/* Is v a collection of this type (or empty: *empty)? */
bool loader_expect(struct loader *ld, struct fy_node *v, enum fy_node_type type,
		   const char *name, int kline, const char *what, bool *empty);

/* The key of a mapping pair: a non-empty scalar, not an alias. */
bool loader_key(struct loader *ld, struct fy_node_pair *p, const char *prefix, int fallback,
		const char **k, size_t *klen, int *kline);

/* The line of the user's file that set a key of the schema
 * ("rewrite_table") or of a registered section ("queue.smart_host"),
 * or 0. */
int loader_set_line(const struct loader *ld, const char *key);

/* Make a file name (*field, replaced) absolute against the directory of
 * the configuration file path (the working directory for the embedded
 * default, path NULL); key names it in the error when that fails. */
void loader_resolve_path(struct loader *ld, const char *path, char **field, const char *key);

#endif
