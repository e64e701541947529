#include "policy/relay.h"

#include <string.h>

#include "config/config.h"
#include "net/cidr.h"
#include "smtp/address.h"

/* Local parts that older MTAs behind us may still read as routing: the
 * percent hack ("user%other.test"), UUCP bang paths ("other.test!user")
 * and a quoted "@" ("\"user@other.test\""). An untrusted client gets none
 * of them through, even to a local domain: the internal server might
 * relay them on (RFC 5321 3.6.1 / 3.9.1, RFC 2505 2.6). */
static bool local_part_routes(const struct address *rcpt)
{
	return strpbrk(rcpt->local, "%!") != NULL || (rcpt->local[0] == '"' && strchr(rcpt->local, '@'));
}

enum relay_verdict relay_decide(const struct config *c, const struct relay_client *who,
				const struct address *rcpt)
{
	bool trusted = cidr_list_contains(&c->trusted_networks, who->addr) ||
		       (who->listener_trusted && cidr_list_contains(who->listener_trusted, who->addr));
	/* <Postmaster> without a domain is ours by definition (RFC 5321 4.5.1). */
	if (rcpt->kind == ADDRESS_POSTMASTER)
		return RELAY_LOCAL;
	/* An address literal is never a local domain: "user@[192.0.2.1]" is a
	 * classic way to relay through a gateway. */
	if (!rcpt->domain_is_literal && config_is_local_domain(c, rcpt->domain, strlen(rcpt->domain))) {
		if (local_part_routes(rcpt) && !trusted && !who->authenticated)
			return RELAY_DENIED;
		return RELAY_LOCAL;
	}
	if (trusted)
		return RELAY_TRUSTED;
	if (who->authenticated)
		return RELAY_AUTHENTICATED;
	return RELAY_DENIED;
}

enum relay_verdict relay_check(const struct config *c, const struct sockaddr *client,
			       const struct address *rcpt)
{
	struct relay_client who = { .addr = client, .listener_trusted = NULL, .authenticated = false };
	return relay_decide(c, &who, rcpt);
}
