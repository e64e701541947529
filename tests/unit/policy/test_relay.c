/* The relay decision (REL-1..3) with the classic address tricks. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>

#include "config/config.h"
#include "net/cidr.h"
#include "policy/relay.h"
#include "smtp/address.h"

static struct config *cfg;

static void setup(void)
{
	static char *domains[] = { "example.test" };
	cfg = calloc(1, sizeof(*cfg));
	cfg->local_domains = domains;
	cfg->n_local_domains = 1;
	struct cidr c;
	cr_assert(cidr_parse("192.0.2.0/24", 12, &c));
	cidr_list_add(&cfg->trusted_networks, &c);
}

static void teardown(void)
{
	cidr_list_free(&cfg->trusted_networks);
	free(cfg);
}

static enum relay_verdict decide(const char *ip, bool authenticated, const char *path)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, ip, &sin.sin_addr);
	struct address a;
	size_t used;
	cr_assert_eq(address_parse_path(path, strlen(path), false, false, true, &a, &used), ADDRESS_OK, "%s", path);
	struct relay_client who = { (const struct sockaddr *)&sin, NULL, authenticated };
	return relay_decide(cfg, &who, &a);
}

TestSuite(relay, .init = setup, .fini = teardown);

Test(relay, local_domain_from_anyone)
{
	cr_assert_eq(decide("203.0.113.1", false, "<user@example.test>"), RELAY_LOCAL);
	cr_assert_eq(decide("203.0.113.1", false, "<user@EXAMPLE.Test>"), RELAY_LOCAL);
	cr_assert_eq(decide("203.0.113.1", false, "<Postmaster>"), RELAY_LOCAL);
}

Test(relay, routing_local_parts_only_for_trusted_or_authenticated)
{
	const char *tricks[] = { "<user%other.test@example.test>", "<other.test!user@example.test>",
				 "<\"user@other.test\"@example.test>", "<\"user%other.test\"@example.test>" };
	for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
		cr_assert_eq(decide("203.0.113.1", false, tricks[i]), RELAY_DENIED, "%s", tricks[i]);
		cr_assert_eq(decide("192.0.2.7", false, tricks[i]), RELAY_LOCAL, "%s", tricks[i]);
		cr_assert_eq(decide("203.0.113.1", true, tricks[i]), RELAY_LOCAL, "%s", tricks[i]);
	}
}

Test(relay, other_domains)
{
	cr_assert_eq(decide("203.0.113.1", false, "<user@other.test>"), RELAY_DENIED);
	cr_assert_eq(decide("203.0.113.1", false, "<@example.test:user@other.test>"), RELAY_DENIED);
	cr_assert_eq(decide("203.0.113.1", false, "<user@[192.0.2.1]>"), RELAY_DENIED);
	cr_assert_eq(decide("192.0.2.7", false, "<user@other.test>"), RELAY_TRUSTED);
	cr_assert_eq(decide("203.0.113.1", true, "<user@other.test>"), RELAY_AUTHENTICATED);
}
