/*
 * Configuration warnings: see check.h. Runs wherever the configuration
 * was loaded (the master, or the check-config command); no I/O.
 */
#include "config/check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config/section.h"

/* Trusted networks wider than this, reachable through a listener that is
 * not on loopback, get a warning: relaying for a quarter of the IPv4
 * internet is seldom what was meant. (IPv6 allocations are larger, so
 * the bar is lower there.) */
#define WIDE_PREFIX_V4 8
#define WIDE_PREFIX_V6 16

/* Wider than this, and not private, trusting a network is an error
 * unless allow_open_relay says it is meant (REL-1, issue 16). */
#define OPEN_RELAY_PREFIX 8

static void cidr_text(const struct cidr *n, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(n->family, n->addr, addr, sizeof(addr)))
		memcpy(addr, "?", 2);
	snprintf(buf, size, "%s/%u", addr, n->prefix);
}

static bool address_is_loopback(const char *text)
{
	unsigned char bin[16];
	static const unsigned char v6_loopback[16] = { [15] = 1 };
	static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (inet_pton(AF_INET, text, bin) == 1)
		return bin[0] == 127;
	if (inet_pton(AF_INET6, text, bin) == 1)
		return memcmp(bin, v6_loopback, 16) == 0 ||
		       (memcmp(bin, v4mapped, 12) == 0 && bin[12] == 127);
	return false;
}

bool config_network_opens_relay(const struct cidr *n)
{
	if (n->prefix >= OPEN_RELAY_PREFIX)
		return false;
	/* fc00::/7 (RFC 4193 unique local addresses) or a part of it. */
	bool ula = n->family == AF_INET6 && n->prefix >= 7 && (n->addr[0] & 0xfe) == 0xfc;
	return !ula;
}

/* Listeners that require AUTH (and take it over TLS) while nobody can log
 * in: clients get 530 and then 535 with no hint why (RFC 4954 6). */
static void warn_auth_without_credentials(const struct config *c, struct config_errors *out)
{
	if (c->auth.credentials)
		return;
	for (size_t i = 0; i < c->n_listeners; i++) {
		const struct listener_cfg *l = &c->listeners[i];
		if (l->auth == LISTENER_AUTH_REQUIRED && l->tls != LISTENER_TLS_NONE)
			config_errors_add(out, "%s: warning: listener %s requires AUTH but auth.credentials is not "
					  "set: nobody can log in there", c->source, l->name);
	}
}

/* REL-1/REL-2: trusted networks that let far too many clients relay
 * (owner: "" for the global list, "listener NAME: " for a listener's). */
static void warn_networks(const struct config *c, const struct cidr_list *list, const char *owner,
			  const struct listener_cfg *exposed, struct config_errors *out)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct cidr *n = &list->items[i];
		unsigned wide = n->family == AF_INET ? WIDE_PREFIX_V4 : WIDE_PREFIX_V6;
		char text[INET6_ADDRSTRLEN + 8];

		cidr_text(n, text, sizeof(text));
		if (config_network_opens_relay(n))
			config_errors_add(out, "%s: warning: %strusted_networks contains %s: much of the internet may "
					  "relay (open relay, allowed by allow_open_relay)", c->source, owner, text);
		else if (n->prefix < wide && exposed)
			config_errors_add(out, "%s: warning: %strusted_networks contains %s, wider than /%u, and "
					  "listener %s is not on loopback (%s): far too many clients may relay",
					  c->source, owner, text, wide, exposed->name, exposed->address);
	}
}

/* SCAN-11: an automatic switch is announced to emergency.notify; without
 * it only the log tells that the gateway tightened itself. */
static void warn_triggers_without_notify(const struct config *c, struct config_errors *out)
{
	if (c->emergency.notify)
		return;
	for (size_t n = 1; n < c->emergency.n_levels; n++)
		if (c->emergency.levels[n].trigger.set) {
			config_errors_add(out, "%s: warning: level %s has a trigger but emergency.notify is not set: "
					  "automatic switches are only logged", c->source, c->emergency.levels[n].name);
			return;
		}
}

void config_warnings(const struct config *c, struct config_errors *out)
{
	const struct listener_cfg *exposed = NULL;

	for (size_t i = 0; i < c->n_listeners && !exposed; i++)
		if (!address_is_loopback(c->listeners[i].address))
			exposed = &c->listeners[i];

	warn_networks(c, &c->trusted_networks, "", exposed, out);
	for (size_t i = 0; i < c->n_listeners; i++) {
		const struct listener_cfg *l = &c->listeners[i];
		char owner[300];
		snprintf(owner, sizeof(owner), "listener %s: ", l->name);
		warn_networks(c, &l->trusted_networks, owner, address_is_loopback(l->address) ? NULL : l, out);
	}

	/* TLS-3: AUTH is never accepted in clear. */
	for (size_t i = 0; i < c->n_listeners; i++) {
		const struct listener_cfg *l = &c->listeners[i];
		if (l->auth != LISTENER_AUTH_OFF && l->tls == LISTENER_TLS_NONE)
			config_errors_add(out, "%s: warning: listener %s takes AUTH but has tls: none: AUTH is "
					  "only offered over TLS, so nobody can log in there", c->source, l->name);
	}

	warn_auth_without_credentials(c, out);
	warn_triggers_without_notify(c, out);

	/* TLS-8: TLS-RPT counts only the sessions under MTA-STS or DANE. */
	if (c->outbound_tls.tlsrpt.enabled && !c->outbound_tls.mta_sts.enabled && !c->outbound_tls.dane.enabled)
		config_errors_add(out, "%s: warning: outbound_tls.tlsrpt is enabled but neither mta_sts nor dane "
				  "is: there are no sessions to report", c->source);

	for (const struct config_section *const *s = config_sections; *s; s++)
		if ((*s)->warn)
			(*s)->warn(c, out);
}
