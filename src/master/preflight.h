/*
 * Preflight: the files a configuration names, opened the way serve will
 * open them, before anything starts. check-config and serve (at start and
 * at every SIGHUP reload) run the same check, so "configuration ok" means
 * the gateway starts (issue 16). Every problem is reported, as
 *   file:line: key: problem
 * (without ":line" when the key comes from the embedded default).
 *
 * Runs in the master or the check-config command, before any fork and any
 * privilege drop; may block (file reads). Creates nothing.
 */
#ifndef MW_MASTER_PREFLIGHT_H
#define MW_MASTER_PREFLIGHT_H

#include "config/config.h"

/* Problems go to errs (the configuration must not be used), notes on
 * what runs weaker than configured to warnings. */
void preflight_check(const struct config *c, struct config_errors *errs, struct config_errors *warnings);

#endif
