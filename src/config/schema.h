/*
 * The configuration schema: one declarative table of every scalar key
 * (dotted path, type, bounds, where it lives in struct config, help).
 * A new scalar setting is one line in schema.c and one field in
 * struct config; the loader and check-config need no change. Lists and
 * mappings of entries (listeners, local_domains, trusted_networks, routes)
 * are parsed by config.c, which knows their shape.
 *
 * There are no defaults here on purpose: the embedded default YAML
 * (default.c) goes through the same table, so it is checked like any
 * user file and cannot drift from it.
 *
 * Sections owned by a layer above config/ (scan:, queue:) have key tables of
 * their own, read by the same schema_set(): see config/section.h.
 *
 * Pure functions, no I/O; runs in the master before the privilege drop.
 */
#ifndef MW_CONFIG_SCHEMA_H
#define MW_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

enum schema_type {
	SCHEMA_STRING,    /* char *; min/max bound the length in bytes */
	SCHEMA_UINT,      /* unsigned; decimal */
	SCHEMA_SIZE,      /* size_t; bytes, or with k, M, G (powers of 1024) */
	SCHEMA_DURATION,  /* unsigned; seconds, or with s, m, h, d */
	SCHEMA_ENUM,      /* int; one of values[] */
	SCHEMA_BOOL,      /* bool; true/false/yes/no */
};

struct schema_enum {
	const char *name;
	int value;
};

struct schema_key {
	const char *key;                  /* dotted path: "limits.message_size" */
	enum schema_type type;
	unsigned long long min, max;      /* inclusive bounds (length for STRING) */
	size_t offset;                    /* of the field in struct config */
	const struct schema_enum *values; /* ENUM: ended by a NULL name */
	/* STRING: extra syntax check; returns NULL or a static problem text. */
	const char *(*check)(const char *s, size_t len);
	const char *help;
};

extern const struct schema_key schema_keys[];
extern const size_t schema_n_keys;

/* The entry for a dotted key (len bytes), or NULL. */
const struct schema_key *schema_find(const char *key, size_t len);

/* Is key (len bytes) a section, i.e. a prefix "key." of some entry? */
bool schema_is_section(const char *key, size_t len);

/*
 * Parse text (len bytes, any bytes) as the key's type, check it against
 * the bounds and store it into the struct config at base (a STRING
 * replaces and frees the previous value). On error nothing is stored,
 * false is returned and problem holds a sentence such as
 * "not a size (use e.g. 10M, 512k or a number of bytes)" or
 * "must be between 1k and 2G".
 */
bool schema_set(const struct schema_key *k, void *base, const char *text, size_t len,
		char *problem, size_t problem_size);

/* A number of type as the administrator would write it: "2G", "1h",
 * "1000" (the largest whole unit; bounds in messages, the man page). */
void schema_format_bound(enum schema_type type, unsigned long long v, char *buf, size_t size);

/* The value of k in the struct config at base as the administrator would
 * write it ("10M", "2h", "true"), for check-config --levels. */
void schema_format(const struct schema_key *k, const void *base, char *buf, size_t size);

/* Plain decimal, no sign, no leading zero (but "0"); false on overflow
 * with *overflow set, so "99999999999999999999" reads as out of range. */
bool schema_parse_number(const char *text, size_t len, unsigned long long *out, bool *overflow);

/* A domain name: dot-separated labels of letters, digits and hyphens
 * (no hyphen at either end of a label), 1..63 bytes each, 253 in all,
 * no trailing dot. Returns NULL if valid, else a static problem. */
const char *schema_check_domain(const char *s, size_t len);

/* A plain mailbox local@domain: no spaces, controls or brackets in the
 * local part, a valid domain. NULL if valid, else a static problem. */
const char *schema_check_mailbox(const char *s, size_t len);

/* "90", "90s", "15m", "2h", "30d" (as the configuration's durations) into
 * seconds; false if it is none or too large. */
bool schema_parse_duration(const char *text, unsigned long long *seconds);

#endif
