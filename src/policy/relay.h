/*
 * The relay decision for one recipient (REL-1, REL-2): mail for a local
 * domain is accepted from anyone; mail for any other destination only from
 * a client in the trusted networks. Everything else is relay access denied.
 * Pure function of the configuration, the client address and the parsed
 * recipient: testable alone, no bypass.
 */
#ifndef MW_POLICY_RELAY_H
#define MW_POLICY_RELAY_H

#include <sys/socket.h>

struct config;
struct address;

enum relay_verdict {
	RELAY_LOCAL,     /* recipient in a local domain */
	RELAY_TRUSTED,   /* other destination, client in trusted_networks */
	RELAY_DENIED,
};

enum relay_verdict relay_check(const struct config *c, const struct sockaddr *client,
			       const struct address *rcpt);

#endif
