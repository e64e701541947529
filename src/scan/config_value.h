/*
 * The scalar values of the scan: section's keys that the schema's types
 * (config/schema.h) do not cover: points with two decimals, SMTP replies,
 * text without control characters, paths, domains, durations with the
 * section's own messages. Each parser reads v, the value of the key
 * named name at line kline, reports a bad value as "file:line: key:
 * problem" through the loader and returns false, leaving *out as it was.
 *
 * The scan_value_load_* functions are the same parsers as handlers of a
 * mapping_load() table (config/mapping.h): field is the member the
 * table's offset names, of the type the parser writes.
 *
 * Used by the section's loaders (scan/config*.c); runs in the master
 * before the privilege drop; no I/O.
 */
#ifndef MW_SCAN_CONFIG_VALUE_H
#define MW_SCAN_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>

struct fy_node;
struct loader;

/* NULL, or why s (len bytes) may not end up in logs, replies and
 * resolver settings (it holds control characters). */
const char *scan_value_check_text(const char *s, size_t len);

/* 1 to max bytes without control characters, into *out (freed first). */
bool scan_value_text(struct loader *ld, struct fy_node *v, const char *name, int kline, char **out, size_t max);
/* A file name; a relative one is made absolute against the configuration
 * file's directory once the whole file is read (scan_config_section's
 * finish). */
bool scan_value_path(struct loader *ld, struct fy_node *v, const char *name, int kline, char **out);
/* Points or a threshold: at most two decimals, between min and max whole
 * points, in hundredths (verdict/points.h). */
bool scan_value_points(struct loader *ld, struct fy_node *v, const char *name, int kline, int min, int max,
		       int *out);
/* true or false (not yes/no, which the schema's booleans take). */
bool scan_value_bool(struct loader *ld, struct fy_node *v, const char *name, int kline, bool *out);
/* A duration ("90", "15m", "2h") in seconds, between min and max. */
bool scan_value_duration(struct loader *ld, struct fy_node *v, const char *name, int kline, unsigned min,
			 unsigned max, unsigned *out);
/* An SMTP reply: "4xx x.y.z text" or "5xx x.y.z text", printable ASCII. */
bool scan_value_reply(struct loader *ld, struct fy_node *v, const char *name, int kline, char **out);
/* A domain name (schema_check_domain()); *out is NULL after a bad one. */
void scan_value_domain(struct loader *ld, struct fy_node *v, const char *name, int kline, char **out);

/* Table handlers: points from -1000 to 1000 (int), a direction's
 * threshold from 0 to 100000 (int), bool, reply (char *), path (char *),
 * domain (char *). */
void scan_value_load_points(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field);
void scan_value_load_threshold(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field);
void scan_value_load_bool(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field);
void scan_value_load_reply(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field);
void scan_value_load_path(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field);
void scan_value_load_domain(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field);

#endif
