/* The schema table and its value parsers (src/config/schema.c). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/schema.h"

static char problem[256];

static bool set(const char *key, struct config *c, const char *text)
{
	const struct schema_key *k = schema_find(key, strlen(key));
	cr_assert_not_null(k, "no key %s", key);
	problem[0] = '\0';
	return schema_set(k, c, text, strlen(text), problem, sizeof(problem));
}

Test(schema, every_key_is_unique_and_documented)
{
	cr_assert_gt(schema_n_keys, 20);
	for (size_t i = 0; i < schema_n_keys; i++) {
		const struct schema_key *k = &schema_keys[i];
		cr_assert_not_null(k->help, "%s has no help", k->key);
		cr_assert_gt(strlen(k->help), 10, "%s: help too short", k->key);
		cr_assert_eq(schema_find(k->key, strlen(k->key)), k, "%s is not unique", k->key);
		if (k->type == SCHEMA_ENUM)
			cr_assert_not_null(k->values, "%s has no values", k->key);
		else
			cr_assert_leq(k->min, k->max, "%s: bounds reversed", k->key);
	}
}

Test(schema, find_and_sections)
{
	cr_assert_not_null(schema_find("limits.message_size", 19));
	cr_assert_null(schema_find("limits.message_siz", 18));
	cr_assert_null(schema_find("limits", 6));
	cr_assert(schema_is_section("limits", 6));
	cr_assert(schema_is_section("auth", 4));
	cr_assert(schema_is_section("log", 3));
	cr_assert_not(schema_is_section("limit", 5));
	cr_assert_not(schema_is_section("limits.message_size", 19));
	cr_assert_not(schema_is_section("", 0));
}

Test(schema, sizes)
{
	struct config c = { 0 };
	cr_assert(set("limits.message_size", &c, "1024"));
	cr_assert_eq(c.limits.message_size, 1024);
	cr_assert(set("limits.message_size", &c, "512k"));
	cr_assert_eq(c.limits.message_size, 512 * 1024);
	cr_assert(set("limits.message_size", &c, "7K"));
	cr_assert_eq(c.limits.message_size, 7 * 1024);
	cr_assert(set("limits.message_size", &c, "10M"));
	cr_assert_eq(c.limits.message_size, 10 * 1024 * 1024);
	cr_assert(set("limits.message_size", &c, "1g"));
	cr_assert_eq(c.limits.message_size, 1024 * 1024 * 1024);
	static const char *bad[] = { "", "M", "10MB", "1.5M", "-1", "+5", " 5", "5 ", "0x10", "010", "10T", "1e6" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_not(set("limits.message_size", &c, bad[i]), "accepted \"%s\"", bad[i]);
		cr_assert_str_eq(problem, "not a size (use e.g. 10M, 512k or a number of bytes)");
	}
	cr_assert_eq(c.limits.message_size, 1024 * 1024 * 1024, "changed by a refused value");
	cr_assert_not(set("limits.message_size", &c, "1023"));
	cr_assert_str_eq(problem, "must be between 1k and 2G");
	cr_assert_not(set("limits.message_size", &c, "18446744073709551615G"));
	cr_assert_str_eq(problem, "must be between 1k and 2G");
}

Test(schema, durations)
{
	struct config c = { 0 };
	cr_assert(set("auth.lockout", &c, "1d"));
	cr_assert_eq(c.auth.lockout, 86400);
	cr_assert(set("auth.lockout", &c, "3h"));
	cr_assert_eq(c.auth.lockout, 3 * 3600);
	cr_assert(set("auth.lockout", &c, "90m"));
	cr_assert_eq(c.auth.lockout, 90 * 60);
	cr_assert(set("auth.lockout", &c, "600s"));
	cr_assert_eq(c.auth.lockout, 600);
	cr_assert(set("auth.lockout", &c, "601"));
	cr_assert_eq(c.auth.lockout, 601);
	cr_assert_not(set("auth.lockout", &c, "5M"));
	cr_assert_str_eq(problem, "not a duration (use e.g. 30s, 5m, 1h, 2d or a number of seconds)");
	cr_assert_not(set("auth.lockout", &c, "2d"));
	cr_assert_str_eq(problem, "must be between 1s and 1d");
	cr_assert(set("shutdown_grace", &c, "0"));
	cr_assert_eq(c.shutdown_grace, 0);
	cr_assert_not(set("shutdown_grace", &c, "61m"));
	cr_assert_str_eq(problem, "must be between 0 and 1h");
}

Test(schema, numbers)
{
	unsigned long long v;
	bool overflow;
	cr_assert(schema_parse_number("0", 1, &v, &overflow));
	cr_assert_eq(v, 0);
	cr_assert(schema_parse_number("18446744073709551615", 20, &v, &overflow));
	cr_assert_eq(v, 18446744073709551615ULL);
	cr_assert_not(schema_parse_number("18446744073709551616", 20, &v, &overflow));
	cr_assert(overflow);
	cr_assert_not(schema_parse_number("12a", 3, &v, &overflow));
	cr_assert_not(overflow);
	cr_assert_not(schema_parse_number("", 0, &v, &overflow));
	cr_assert_not(schema_parse_number("007", 3, &v, &overflow));
	cr_assert(schema_parse_number("42xyz", 2, &v, &overflow));
	cr_assert_eq(v, 42);
}

Test(schema, enums)
{
	struct config c = { 0 };
	cr_assert(set("log.level", &c, "warning"));
	cr_assert_eq(c.log.level, LOG_WARNING);
	cr_assert(set("log.format", &c, "json"));
	cr_assert_eq(c.log.format, LOG_FORMAT_JSON);
	cr_assert_not(set("log.level", &c, "INFO"));
	cr_assert_str_eq(problem, "must be one of: debug, info, warning, error");
	cr_assert_eq(c.log.level, LOG_WARNING);
}

/* TLS-8: outbound_tls.dane.resolver is libunbound's forwarder syntax. */
Test(schema, dane_resolver_is_a_numeric_address_with_an_optional_port)
{
	struct config c = { 0 };
	const char *key = "outbound_tls.dane.resolver";
	cr_assert(set(key, &c, "127.0.0.1"));
	cr_assert(set(key, &c, "127.0.0.1@5353"));
	cr_assert(set(key, &c, "::1@53"));
	cr_assert_str_eq(c.outbound_tls.dane.resolver, "::1@53");
	cr_assert_not(set(key, &c, "resolver.example"));
	cr_assert_str_eq(problem, "not a numeric IPv4 or IPv6 address");
	cr_assert_not(set(key, &c, "127.0.0.1@"));
	cr_assert_str_eq(problem, "port after @ must be 1 to 65535");
	cr_assert_not(set(key, &c, "127.0.0.1@70000"));
	cr_assert_not(set(key, &c, "127.0.0.1:53"));
	cr_assert_str_eq(c.outbound_tls.dane.resolver, "::1@53");
	free(c.outbound_tls.dane.resolver);
}

Test(schema, strings_replace_and_check)
{
	struct config c = { 0 };
	cr_assert(set("user", &c, "mw"));
	cr_assert_str_eq(c.user, "mw");
	cr_assert(set("user", &c, "mail.warden-2"));
	cr_assert_str_eq(c.user, "mail.warden-2");
	cr_assert_not(set("user", &c, "-rf"));
	cr_assert_not(set("user", &c, "a b"));
	cr_assert_not(set("user", &c, "abcdefghijklmnopqrstuvwxyz0123456"));
	cr_assert_str_eq(problem, "must be 1 to 32 bytes long");
	cr_assert_not(set("state_dir", &c, "/var/lib/mw\n"));
	cr_assert_str_eq(problem, "path contains control characters");
	const struct schema_key *k = schema_find("user", 4);
	cr_assert_not(schema_set(k, &c, "a\0b", 3, problem, sizeof(problem)));
	cr_assert_str_eq(problem, "contains a NUL byte");
	cr_assert_str_eq(c.user, "mail.warden-2");
	free(c.user);
}

Test(schema, bool_type)
{
	/* no BOOL key in the table yet: exercise the type with a local entry */
	struct holder {
		int pad;
		bool flag;
	} h = { 0, false };
	const struct schema_key k = { "x.flag", SCHEMA_BOOL, 0, 1, offsetof(struct holder, flag), NULL, NULL, "test" };
	cr_assert(schema_set(&k, &h, "yes", 3, problem, sizeof(problem)));
	cr_assert(h.flag);
	cr_assert(schema_set(&k, &h, "false", 5, problem, sizeof(problem)));
	cr_assert_not(h.flag);
	cr_assert(schema_set(&k, &h, "true", 4, problem, sizeof(problem)));
	cr_assert(h.flag);
	cr_assert(schema_set(&k, &h, "no", 2, problem, sizeof(problem)));
	cr_assert_not(h.flag);
	cr_assert_not(schema_set(&k, &h, "on", 2, problem, sizeof(problem)));
	cr_assert_str_eq(problem, "not a boolean (use true, false, yes or no)");
}

Test(schema, domains)
{
	cr_assert_null(schema_check_domain("example.org", 11));
	cr_assert_null(schema_check_domain("localhost", 9));
	cr_assert_null(schema_check_domain("a-b.c0", 6));
	cr_assert_not_null(schema_check_domain("", 0));
	cr_assert_not_null(schema_check_domain(".example.org", 12));
	cr_assert_not_null(schema_check_domain("example.org.", 12));
	cr_assert_not_null(schema_check_domain("-a.org", 6));
	cr_assert_not_null(schema_check_domain("a-.org", 6));
	cr_assert_not_null(schema_check_domain("a_b.org", 7));
	cr_assert_not_null(schema_check_domain("a\0b", 3));
	char label[70];
	memset(label, 'a', 64);
	cr_assert_not_null(schema_check_domain(label, 64));
	cr_assert_null(schema_check_domain(label, 63));
}
