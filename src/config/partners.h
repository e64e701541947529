/*
 * Internal to src/config: the known partners' settings under
 * "emergency.partners" (SCAN-11): file, max_age and text are schema keys
 * (schema.c); the static allow list and the file's default are here.
 */
#ifndef MW_CONFIG_PARTNERS_H
#define MW_CONFIG_PARTNERS_H

#include "config/loader.h"

/* The lists.h entry for "emergency.partners.allow": a list of addresses
 * ("bob@partner.test") and domains ("partner.test"), stored lowered. */
void partners_allow_load(struct loader *ld, struct fy_node *v, const char *name, int kline);

/* After state_dir is absolute: the database file's default and path. */
void partners_finish(struct loader *ld);

void partners_free(struct config *c);

#endif
