/*
 * Warnings about a configuration that loads but is unsafe or will not
 * work as the administrator probably expects (open relay, a local domain
 * nobody delivers for). Kept apart from config_load(): a warning never
 * stops the gateway, it is printed by check-config and logged at start.
 */
#ifndef MW_CONFIG_CHECK_H
#define MW_CONFIG_CHECK_H

#include "config/config.h"

/* REL-1: would trusting n make the gateway an open relay? True for a
 * network wider than /8 that is not wholly private (fc00::/7 is; no IPv4
 * private range is wider than /8): 0.0.0.0/0, ::/0, 10.0.0.0/7, 2000::/3. */
bool config_network_opens_relay(const struct cidr *n);

/* Append one "source: warning: ..." line per problem found in c to out,
 * in a stable order. Pure: no I/O, no DNS. */
void config_warnings(const struct config *c, struct config_errors *out);

#endif
