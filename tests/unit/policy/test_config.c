/* policy/'s sections of the configuration (src/policy/config.c): routes:,
 * tls_policy: and the value of rewrite_table, registered with the loader
 * through config/section.h. */
#include <criterion/criterion.h>

#include <string.h>

#include "../config_file.h"
#include "config/check.h"
#include "policy/rewrite.h"
#include "policy/route.h"
#include "policy/tlspolicy.h"

TestSuite(policy_config, .fini = config_file_teardown);

#define BASE "hostname: mx.test\nstate_dir: /tmp\n"

Test(policy_config, routes_is_a_registered_section)
{
	const struct config_section *found = section("routes");
	cr_assert_eq(found, &policy_config_section);
	cr_assert_not_null(found->load_value);
}

Test(policy_config, tls_policy_is_a_registered_section)
{
	const struct config_section *found = section("tls_policy");
	cr_assert_eq(found, &tls_policy_config_section);
	cr_assert_not_null(found->load_value);
}

/* A user's tls_policy: replaces the one before; each entry is checked
 * like a route's key, then its level. */
Test(policy_config, tls_policy_errors_name_file_line_and_key)
{
	cr_assert_null(load(BASE "tls_policy:\n  bad_domain: verify\n  Bank.TEST: verify TLSv1.3\n"
			   "  .example.test: encrypt TLSv1.1\n  x.test: [verify]\n"));
	cr_assert_eq(errs.n, 3, "%zu errors: %s", errs.n, errs.items[0]);
	cr_assert_str_eq(error(0), "4: tls_policy.bad_domain: not a domain name (letters, digits, '-' and '.')");
	cr_assert_str_eq(error(1), "6: tls_policy..example.test: must be none, may, encrypt or verify, "
			 "optionally followed by TLSv1.2 or TLSv1.3");
	cr_assert_str_eq(error(2), "7: tls_policy.x.test: expected a single value, not a list");
}

Test(policy_config, routes_and_rewriting_are_loaded)
{
	char table[64];
	snprintf(table, sizeof(table), "/tmp/mw-test-policy-rw-XXXXXX");
	int fd = mkstemp(table);
	cr_assert_geq(fd, 0);
	const char *rules = "old@example.test new@example.test\n";
	cr_assert_eq(write(fd, rules, strlen(rules)), (ssize_t)strlen(rules));
	close(fd);
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
		 BASE "routes:\n  Example.TEST: smtp://10.0.0.1:2525\n  .example.test: lmtp://10.0.0.2\n"
		 "rewrite_table: %s\n", table);
	load(yaml);
	unlink(table);
	cr_assert_not_null(cfg, "%s", errs.n ? errs.items[0] : "");
	cr_assert_eq(cfg->n_routes, 2);
	cr_assert_str_eq(cfg->routes[0].domain, "example.test");
	cr_assert(cfg->routes[1].subdomains);
	cr_assert_eq(cfg->routes[1].kind, ROUTE_LMTP);
	cr_assert_not_null(cfg->rewrite);
}

Test(policy_config, route_errors_name_file_line_and_key)
{
	cr_assert_null(load(BASE "routes:\n  bad_domain: smtp://10.0.0.1\n  x.test: ftp://x\n"
			   "  OK.test: smtp://10.0.0.1\n  ok.test: smtp://10.0.0.2\n"));
	cr_assert_eq(errs.n, 3, "%zu errors: %s", errs.n, errs.items[0]);
	cr_assert_str_eq(error(0), "4: routes.bad_domain: not a domain name (letters, digits, '-' and '.')");
	cr_assert(strncmp(error(1), "5: routes.x.test: ", 18) == 0, "%s", error(1));
	cr_assert_str_eq(error(2), "7: routes.ok.test: duplicate route (domains compare without regard to case)");
}

/* The "no route" warning is policy/'s, appended after config/'s own. */
Test(policy_config, a_local_domain_without_route_is_warned_about)
{
	cr_assert_not_null(load(BASE "local_domains: [a.test, b.test]\nroutes:\n  a.test: maildir:/tmp/x\n"));
	struct config_errors warns = { 0 };
	config_warnings(cfg, &warns);
	cr_assert_geq(warns.n, 1);
	cr_assert_not_null(strstr(warns.items[warns.n - 1], "local domain b.test has no route"));
	for (size_t i = 0; i < warns.n; i++)
		cr_assert_null(strstr(warns.items[i], "a.test has no route"));
	config_errors_free(&warns);
}
