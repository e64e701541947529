/* The mailboxes of an address-list field (RFC 5322 3.4) as from_binding
 * sees them (REL-3): display names and comments dropped, groups
 * flattened, and anything that is not a usable sender address refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "content/address_list.h"
#include "content/mime.h"

static void init(void)
{
	mime_prepare();
}

TestSuite(address_list, .init = init);

static struct address_list parse_ok(const char *value)
{
	struct address_list l;
	cr_assert(address_list_parse(value, strlen(value), &l), "%s does not parse", value);
	return l;
}

Test(address_list, a_plain_address_and_a_named_one)
{
	struct address_list l = parse_ok(" alice@example.test");
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.addrs[0], "alice@example.test");
	address_list_free(&l);
	l = parse_ok(" \"Bob <bob@evil.test>\" (the boss) <alice@example.test>");
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.addrs[0], "alice@example.test", "the display name is no address");
	address_list_free(&l);
}

Test(address_list, every_mailbox_of_a_list_and_of_groups)
{
	struct address_list l = parse_ok(" alice@example.test, Team: bob@example.test, carol@example.test;, dave@x.test");
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(l.addrs[0], "alice@example.test");
	cr_assert_str_eq(l.addrs[1], "bob@example.test");
	cr_assert_str_eq(l.addrs[2], "carol@example.test");
	cr_assert_str_eq(l.addrs[3], "dave@x.test");
	address_list_free(&l);
}

static void refused(const char *value, size_t len)
{
	struct address_list l;
	cr_assert_not(address_list_parse(value, len, &l), "accepted: %.*s", (int)len, value);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.addrs);
}

Test(address_list, no_usable_mailbox_is_refused)
{
	const char *bad[] = { "", "   ", " <>", " Alice <>", " alice", " Undisclosed:;", " (only a comment)" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], strlen(bad[i]));
}

Test(address_list, a_nul_byte_is_refused)
{
	const char v[] = " alice@example.test\0, bob@evil.test";
	refused(v, sizeof(v) - 1);
}
