/*
 * Internal to src/config: a level's "trigger:" (SCAN-11), the conditions
 * under which the queue raises the level by itself and when it lowers it
 * again (struct level_trigger in config.h; the queue's side is
 * queue/trigger.h). Pure parsing, no I/O; runs in the master and the
 * configuration tools before any fork.
 */
#ifndef MW_CONFIG_LEVEL_TRIGGER_H
#define MW_CONFIG_LEVEL_TRIGGER_H

#include "config/loader.h"

/* The value of "trigger" (v, at line kline, named name) into *t; every
 * problem reported as file:line: key: problem. */
void level_trigger_load(struct loader *ld, struct fy_node *v, const char *name, int kline, struct level_trigger *t);

/* check-config --levels: "  trigger: queue_depth >= 5000 or ... for 60s, clear for 5m". */
void level_trigger_describe(const struct level_trigger *t, struct config_errors *out);

#endif
