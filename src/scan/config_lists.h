/*
 * The scan: section's files and lists of mappings, as handlers of the
 * section's mapping_load() table (config/mapping.h; part is the struct
 * scan_config, scan/policy.h):
 *
 *   ip_allow, ip_deny, recipients: PATH or {file: PATH, optional: true}
 *   rbl_files: [{file, name, points, type, optional, exempt_authenticated}]
 *   dnsbl: [{zone, points, codes: {127.0.0.x: POINTS}}]
 *   dkim_sign: [{domain, selector, key}]
 *
 * Each reports every problem with file, line and key and loads what is
 * valid. Runs in the master before the privilege drop; no I/O (the files
 * are read by the scanner).
 */
#ifndef MW_SCAN_CONFIG_LISTS_H
#define MW_SCAN_CONFIG_LISTS_H

struct fy_node;
struct loader;

/* More entries than this in one list are refused (the rest not read). */
#define SCAN_LIST_MAX 64

void scan_config_load_ip_allow(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);
void scan_config_load_ip_deny(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);
void scan_config_load_recipients(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);
void scan_config_load_rbl_files(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);
void scan_config_load_dnsbl(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);
void scan_config_load_dkim_sign(struct loader *ld, struct fy_node *v, const char *name, int kline, void *part);

#endif
