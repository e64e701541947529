/* The numeric text of a socket address (net/addr_text.h). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/un.h>

#include "net/addr_text.h"

Test(addr_text, ipv4_and_ipv6)
{
	char out[INET6_ADDRSTRLEN];
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	inet_pton(AF_INET, "192.0.2.25", &v4.sin_addr);
	cr_assert(addr_text((const struct sockaddr *)&v4, out));
	cr_assert_str_eq(out, "192.0.2.25");
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "2001:db8::25", &v6.sin6_addr);
	cr_assert(addr_text((const struct sockaddr *)&v6, out));
	cr_assert_str_eq(out, "2001:db8::25");
}

Test(addr_text, another_family_leaves_the_text_alone)
{
	char out[INET6_ADDRSTRLEN] = "?";
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	cr_assert_not(addr_text((const struct sockaddr *)&un, out));
	cr_assert_str_eq(out, "?");
}
