/*
 * libFuzzer target: relay analysis (content/relays.c) of a header section
 * full of Received fields, with the gateway's hop and configured networks
 * or without. Contract checks: at most RELAYS_MAX relays, every parsed
 * relay with an address and a receiver, values free of blanks and
 * brackets, trust never coming back below an untrusted hop, and the
 * pseudo-header text within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/relays.h"

static void check(const struct relays *rs)
{
	if (rs->n > RELAYS_MAX)
		abort();
	bool trusted = true;
	for (size_t i = 0; i < rs->n; i++) {
		const struct relay *r = &rs->r[i];
		if (!r->ip[0] || !r->by[0] || strpbrk(r->rdns, " []()<>") || strpbrk(r->helo, " []()<>"))
			abort();
		if (r->trusted && !trusted)
			abort();
		trusted = r->trusted;
	}
	static char text[512];
	for (int v = RELAYS_TRUSTED; v <= RELAYS_EXTERNAL; v++)
		if (relays_text(rs, (enum relays_view)v, text, sizeof(text)) >= sizeof(text))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct relays rs;
	struct cidr_list nets = { 0 };
	char bad[64];
	relays_parse_networks("10/8 192.0.2.0/24", &nets, bad, sizeof(bad));
	struct relay_trust plain = { 0 }, gateway = { &nets, NULL, "192.0.2.1", false };
	relays_build(&rs, (const char *)data, size, &plain);
	check(&rs);
	relays_build(&rs, (const char *)data, size, &gateway);
	check(&rs);
	cidr_list_free(&nets);
	return 0;
}
