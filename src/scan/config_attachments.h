/*
 * scan.attachments (issue 12, SCAN-7): what the attachment policy
 * (content/check_attachments.c) forbids. Loaded by its own parser, called
 * from the scan section's loader (scan/config.c):
 *
 *   scan:
 *     attachments:
 *       forbid_classes: [executable, script, macro, shortcut]   # the default
 *       forbid_extensions: [zip, iso]                           # default: none
 *
 * Whether a finding refuses or scores is the direction's policy of the
 * check "attachments" (scan.<direction>.checks.attachments; refuse by
 * default).
 */
#ifndef MW_SCAN_CONFIG_ATTACHMENTS_H
#define MW_SCAN_CONFIG_ATTACHMENTS_H

#include <stddef.h>
#include <stdint.h>

#include <libfyaml.h>

#define ATTACH_EXTENSIONS_MAX 256

struct scan_attachments {
	uint32_t forbid_classes;       /* enum attach_class bits (content/attach_class.h) */
	char **forbid_extensions;      /* lower case, without the dot */
	size_t n_forbid_extensions;
	int line;                      /* of the key in the user's file; 0: none */
};

struct loader;

/* Parse v (the value of key name at line kline) into part's (a struct
 * scan_config) attachments, reporting every problem with file, line and
 * key; a handler of the section's table (config/mapping.h). */
void config_attachments_load(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);
void config_attachments_free(struct scan_attachments *a);

#endif
