/* ADDR:PORT parsing for metrics.listen (src/net/listen_addr.c, issue 15). */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/listen_addr.h"

Test(listen_addr, ipv4_and_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	cr_assert(listen_addr_parse("127.0.0.1:9925", &ss, &len));
	const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
	cr_assert_eq(a->sin_family, AF_INET);
	cr_assert_eq(ntohs(a->sin_port), 9925);
	cr_assert_eq(ntohl(a->sin_addr.s_addr), 0x7f000001);
	cr_assert_eq(len, sizeof(struct sockaddr_in));
}

Test(listen_addr, bracketed_ipv6)
{
	struct sockaddr_storage ss;
	socklen_t len;
	cr_assert(listen_addr_parse("[::1]:1", &ss, &len));
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
	cr_assert_eq(a->sin6_family, AF_INET6);
	cr_assert_eq(ntohs(a->sin6_port), 1);
	cr_assert(IN6_IS_ADDR_LOOPBACK(&a->sin6_addr));
}

Test(listen_addr, refuses_names_missing_or_bad_ports_and_bare_ipv6)
{
	static const char *const bad[] = {
		"localhost:9925", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99x",
		"127.0.0.1:-1", "::1:9925", "[::1]9925", "[::1:9925", "[127.0.0.1]:9925", ":9925", "",
		"127.0.0.1: 9925", "[::1]:+80",
	};
	struct sockaddr_storage ss;
	socklen_t len;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(!listen_addr_parse(bad[i], &ss, &len), "accepted \"%s\"", bad[i]);
}
