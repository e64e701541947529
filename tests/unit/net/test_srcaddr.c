/*
 * Unit tests for net/srcaddr.c: queue.source_address (SEC-3).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "net/srcaddr.h"

static const char *parse(const char *s, struct srcaddr *a)
{
	return srcaddr_parse(s, strlen(s), a);
}

Test(srcaddr, one_ipv4_and_one_ipv6_address_are_taken)
{
	struct srcaddr a;
	cr_assert_null(parse("192.0.2.25, 2001:db8::25", &a));
	cr_assert(a.has_v4 && a.has_v6);
	size_t len = 0;
	const struct sockaddr *sa = srcaddr_for(&a, AF_INET, &len);
	cr_assert_eq(len, sizeof(struct sockaddr_in));
	cr_assert_eq(((const struct sockaddr_in *)sa)->sin_addr.s_addr, inet_addr("192.0.2.25"));
	cr_assert_eq(((const struct sockaddr_in *)sa)->sin_port, 0);
	cr_assert_not_null(srcaddr_for(&a, AF_INET6, &len));
}

Test(srcaddr, a_family_without_an_address_gets_none)
{
	struct srcaddr a;
	size_t len;
	cr_assert_null(parse("127.0.0.77", &a));
	cr_assert_null(srcaddr_for(&a, AF_INET6, &len));
	cr_assert_null(srcaddr_for(NULL, AF_INET, &len));
}

Test(srcaddr, names_two_of_a_family_and_empty_lists_are_refused)
{
	cr_assert_not_null(parse("mx.example.org", NULL));
	cr_assert_not_null(parse("192.0.2.1 192.0.2.2", NULL));
	cr_assert_not_null(parse("::1 ::2", NULL));
	cr_assert_not_null(parse(" , ", NULL));
	cr_assert_not_null(parse("192.0.2.1/24", NULL));
	cr_assert_not_null(parse("192.0.2.1 ::1 10.0.0.1", NULL));
}
