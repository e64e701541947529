/*
 * Internal to src/config: the parser of the "scan:" section (scan.c),
 * registered in lists.c. The result is struct scan_config (scan/policy.h).
 */
#ifndef MW_CONFIG_SCAN_H
#define MW_CONFIG_SCAN_H

#include "config/loader.h"
#include "scan/policy.h"

void scan_config_load(struct loader *ld, struct fy_node *v, const char *name, int kline);

#endif
