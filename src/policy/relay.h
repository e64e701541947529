/*
 * The relay decision for one recipient (REL-1, REL-2, REL-3): mail for a
 * local domain is accepted from anyone; mail for any other destination
 * only from a client in the trusted networks (global or the listener's)
 * or from an authenticated user. Everything else is relay access denied.
 * Pure function of the configuration, the client and the parsed
 * recipient: testable alone, no bypass.
 */
#ifndef MW_POLICY_RELAY_H
#define MW_POLICY_RELAY_H

#include <stdbool.h>
#include <sys/socket.h>

struct config;
struct address;
struct cidr_list;

enum relay_verdict {
	RELAY_LOCAL,     /* recipient in a local domain */
	RELAY_TRUSTED,   /* other destination, client in trusted_networks */
	RELAY_DENIED,
	RELAY_AUTHENTICATED, /* other destination, client logged in with AUTH */
};

struct relay_client {
	const struct sockaddr *addr;
	const struct cidr_list *listener_trusted;  /* the listener's own trusted_networks, or NULL */
	bool authenticated;
};

enum relay_verdict relay_decide(const struct config *c, const struct relay_client *who,
				const struct address *rcpt);

/* relay_decide() for an unauthenticated client without listener networks. */
enum relay_verdict relay_check(const struct config *c, const struct sockaddr *client,
			       const struct address *rcpt);

#endif
