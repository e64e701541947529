/*
 * Internal to src/config: the "emergency:" section (SCAN-11): an ordered
 * list of levels, each a named set of overrides of settings the
 * configuration already has. Level n's snapshot is the configuration
 * loaded again with level n's overrides applied on top, then finished and
 * cross-checked like any configuration (config.c builds them), so every
 * level is validated as if it were active and a process switches by
 * choosing a pointer (config_level()).
 */
#ifndef MW_CONFIG_LEVELS_H
#define MW_CONFIG_LEVELS_H

#include "config/loader.h"

#define LEVELS_MAX CONFIG_LEVELS_MAX

/* The lists.h entry for "emergency": parse state_file and the levels'
 * names and keys into ld->cfg->emergency; remember the entry of the
 * level being built (ld->level) for levels_apply(). */
void levels_load(struct loader *ld, struct fy_node *v, const char *name, int kline);

/* After the user's file is read, while its document lives: apply the
 * entry levels_load() remembered (nothing for level 0). */
void levels_apply(struct loader *ld);

/* After state_dir is absolute: the state file's default and path, and
 * level 0 when the file has no emergency: section. */
void levels_finish(struct loader *ld);

void levels_free(struct config *c);

#endif
