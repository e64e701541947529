/* MX hosts that are ourselves by address (src/queue/mx_self.c): RFC 5321
 * 5.1, attack catalogue case 154. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "../config_file.h"
#include "queue/config.h"
#include "queue/mx_self.h"

TestSuite(mx_self, .fini = config_file_teardown);

#define BASE "hostname: mx.test\nstate_dir: /tmp\n"

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
		v4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
		v6->sin6_family = AF_INET6;
	else
		cr_assert_fail("not an address: %s", text);
	return ss;
}

static enum mx_self judge(const char *text)
{
	struct sockaddr_storage ss = addr(text);
	return mx_self_addr(cfg, &ss);
}

Test(mx_self, loopback_and_this_host_are_refused_by_default)
{
	cr_assert_not_null(load(BASE "listeners: [{name: mta, address: 192.0.2.9, port: 2525}]\n"));
	const char *loops[] = { "127.0.0.1", "127.1.2.3", "0.0.0.0", "0.1.2.3", "::1", "::",
				"::ffff:127.0.0.1", "::ffff:0.0.0.0" };
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++)
		cr_assert_eq(judge(loops[i]), MX_SELF_LOOPBACK, "%s", loops[i]);
	const char *others[] = { "192.0.2.1", "10.0.0.1", "128.0.0.1", "::2", "2001:db8::1", "fe80::1",
				 "::ffff:192.0.2.1", "192.0.2.9" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		cr_assert_eq(judge(others[i]), MX_SELF_NO, "%s", others[i]);
}

Test(mx_self, the_allowance_lets_loopback_through)
{
	cr_assert_not_null(load(BASE "listeners: [{name: mta, address: 127.0.0.1, port: 2525}]\n"
			   "queue: {mx_allow_loopback: true}\n"));
	cr_assert_eq(judge("127.0.0.41"), MX_SELF_NO);
	cr_assert_eq(judge("::1"), MX_SELF_NO);
	cr_assert_eq(judge("127.0.0.1"), MX_SELF_NO);   /* our listener, but on another port than mx_port */
}

Test(mx_self, a_listener_on_the_mx_port_is_always_ourselves)
{
	cr_assert_not_null(load(BASE "listeners: [{name: mta, address: 192.0.2.9, port: 25},\n"
			   "            {name: lo, address: 127.0.0.1, port: 2526}]\n"
			   "queue: {mx_allow_loopback: true, mx_port: 2526}\n"));
	cr_assert_eq(judge("127.0.0.1"), MX_SELF_LISTENER);
	cr_assert_eq(judge("::ffff:127.0.0.1"), MX_SELF_LISTENER);
	cr_assert_eq(judge("127.0.0.2"), MX_SELF_NO);
	cr_assert_eq(judge("192.0.2.9"), MX_SELF_NO);    /* listens on 25, not on mx_port */
}

Test(mx_self, a_wildcard_listener_on_the_mx_port_covers_loopback)
{
	cr_assert_not_null(load(BASE "listeners: [{name: mta, address: \"::\", port: 25}]\n"
			   "queue: {mx_allow_loopback: true}\n"));
	cr_assert_eq(judge("127.0.0.5"), MX_SELF_LISTENER);
	cr_assert_eq(judge("::1"), MX_SELF_LISTENER);
	cr_assert_eq(judge("192.0.2.1"), MX_SELF_NO);
}

Test(mx_self, the_allowance_is_a_queue_key_that_takes_booleans_only)
{
	cr_assert_not_null(section("queue"));
	cr_assert_null(load(BASE "queue:\n  mx_allow_loopback: sometimes\n"));
	cr_assert_eq(errs.n, 1);
	cr_assert(strstr(error(0), "queue.mx_allow_loopback") != NULL, "%s", error(0));
}

Test(mx_self, names_for_logs)
{
	cr_assert_str_eq(mx_self_name(MX_SELF_LOOPBACK), "loopback address");
	cr_assert_str_eq(mx_self_name(MX_SELF_LISTENER), "address of a listener of this gateway");
}
