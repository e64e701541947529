#include "policy/relay.h"

#include <string.h>

#include "config/config.h"
#include "smtp/address.h"

enum relay_verdict relay_check(const struct config *c, const struct sockaddr *client,
			       const struct address *rcpt)
{
	/* <Postmaster> without a domain is ours by definition (RFC 5321 4.5.1). */
	if (rcpt->kind == ADDRESS_POSTMASTER)
		return RELAY_LOCAL;
	/* An address literal is never a local domain: "user@[192.0.2.1]" is a
	 * classic way to relay through a gateway. */
	if (!rcpt->domain_is_literal && config_is_local_domain(c, rcpt->domain, strlen(rcpt->domain)))
		return RELAY_LOCAL;
	if (cidr_list_contains(&c->trusted_networks, client))
		return RELAY_TRUSTED;
	return RELAY_DENIED;
}
