/*
 * libFuzzer target: CIDR lists (issue 14). The input is a list file as
 * the scanner's iplist check reads it (scan_data_cidr_file(): one network
 * per line, '#' comments) and, line by line, what cidr_parse() gets from
 * the configuration's trusted_networks and listener allow lists.
 * Contract checks: a parsed network has a valid family and prefix, no
 * host bit set, contains its own address, and the list set built from
 * the file contains every network parsed from it (unless a '!' line,
 * which the file format does not know, is involved: none is accepted).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "net/cidr.h"
#include "scan/data.h"
#include "scan/ipset.h"

static void to_sockaddr(const struct cidr *c, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (c->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, c->addr, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, c->addr, 16);
	}
}

static void check_network(const struct cidr *c, const struct ipset *set)
{
	CHECK(c->family == AF_INET || c->family == AF_INET6);
	unsigned bits = c->family == AF_INET ? 32 : 128;
	CHECK(c->prefix <= bits);
	for (unsigned b = c->prefix; b < bits; b++)
		CHECK(!(c->addr[b / 8] & (0x80u >> (b % 8))));
	struct sockaddr_storage ss;
	to_sockaddr(c, &ss);
	CHECK(cidr_contains(c, (struct sockaddr *)&ss));
	uint32_t v;
	CHECK(ipset_lookup(set, (struct sockaddr *)&ss, &v));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_logs();
	const char *text = (const char *)data;
	size_t bad;
	struct ipset *set = scan_data_cidr_file("fuzz", text, size, &bad);
	for (size_t i = 0; i < size;) {
		const char *nl = memchr(text + i, '\n', size - i);
		size_t len = (nl ? (size_t)(nl - text) : size) - i;
		struct cidr c;
		if (len && text[i] != '#' && text[i] != ' ' && text[i] != '\t' && !memchr(text + i, '#', len) &&
		    text[i + len - 1] != '\r' && text[i + len - 1] != ' ' && text[i + len - 1] != '\t' &&
		    cidr_parse(text + i, len, &c))
			check_network(&c, set);
		i += len + 1;
	}
	ipset_free(set);
	return 0;
}
