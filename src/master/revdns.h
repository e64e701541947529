/*
 * SEC-3: can the gateway pass a double-reverse DNS test? check-config
 * resolves the configured hostname (A and AAAA), looks up the PTR of the
 * addresses that matter and warns when they do not name each other:
 *  - with queue.source_address: each source address must be an address
 *    of hostname, and its PTR must name hostname (it is what peers see);
 *  - without it: every address of hostname must have a PTR naming it.
 * Uses dns.servers (default: the system's resolver), dns.timeout per try.
 *
 * Runs in the check-config command only; blocks until every answer is in
 * (its own event loop, c-ares). Never an error: DNS may be configured
 * after the gateway, so each finding is a warning.
 */
#ifndef MW_MASTER_REVDNS_H
#define MW_MASTER_REVDNS_H

#include "config/config.h"

/* One "source: warning: ..." line per finding, appended to warnings. */
void revdns_check(const struct config *c, struct config_errors *warnings);

#endif
