/* The configuration loader (src/config/config.c) and its warnings (check.c). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/check.h"
#include "config/config.h"
#include "content/check.h"
#include "policy/route.h"
#include "policy/tlspolicy.h"
#include "queue/config.h"
#include "scan/policy.h"
#include "util/alloc.h"

static char path[64];
static struct config_errors errs;
static struct config *cfg;

static void teardown(void)
{
	if (path[0])
		unlink(path);
	path[0] = '\0';
	config_errors_free(&errs);
	config_free(cfg);
	cfg = NULL;
}

TestSuite(config, .fini = teardown);

/* Write len bytes of YAML to a fresh temporary file and load it. */
static struct config *load_n(const char *yaml, size_t len)
{
	int fd;

	if (path[0])
		unlink(path);
	snprintf(path, sizeof(path), "/tmp/mw-test-config-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, yaml, len), (ssize_t)len);
	close(fd);
	config_free(cfg);
	cfg = config_load(path, &errs);
	return cfg;
}

static struct config *load(const char *yaml)
{
	return load_n(yaml, strlen(yaml));
}

static char *all_errors(void)
{
	static char buf[8192];
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < errs.n && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "  %s\n", errs.items[i]);
	return buf;
}

/* Is "<path>:<line>: <rest>" among the errors? */
static bool has_error(int line, const char *rest)
{
	char want[1024];
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, rest);
	for (size_t i = 0; i < errs.n; i++)
		if (strcmp(errs.items[i], want) == 0)
			return true;
	return false;
}

#define assert_error(line, rest) \
	cr_assert(has_error(line, rest), "missing \"%s:%d: %s\"; got:\n%s", path, line, rest, all_errors())

#define assert_only_error(line, rest) do { \
		cr_assert_null(cfg, "loaded despite errors"); \
		cr_assert_eq(errs.n, 1, "expected one error, got:\n%s", all_errors()); \
		assert_error(line, rest); \
	} while (0)

#define assert_loaded() cr_assert_not_null(cfg, "errors:\n%s", all_errors())

static struct config_errors warn(void)
{
	struct config_errors w = { 0 };
	assert_loaded();
	config_warnings(cfg, &w);
	return w;
}

/* Listeners without AUTH, so that no AUTH warning joins the one tested. */
#define ONE_MTA_LISTENER "listeners: [{name: mx, address: 127.0.0.1, port: 25}]\n"

/* ---- the embedded default ---- */

Test(config, embedded_default_values)
{
	char cwd[PATH_MAX], want[PATH_MAX + 32];

	cfg = config_load(NULL, &errs);
	assert_loaded();
	cr_assert_eq(errs.n, 0);
	cr_assert_str_eq(cfg->source, CONFIG_DEFAULT_SOURCE);
	cr_assert_not_null(cfg->hostname);
	cr_assert_neq(cfg->hostname[0], '\0');
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/mailwarden-data", strcmp(cwd, "/") ? cwd : "");
	cr_assert_str_eq(cfg->state_dir, want);
	cr_assert_str_eq(cfg->user, "mailwarden");
	cr_assert_str_eq(cfg->smtpd_user, "mailwarden-smtpd");
	cr_assert_eq(cfg->smtpd_processes, 1);
	cr_assert_eq(cfg->shutdown_grace, 10);
	cr_assert_eq(cfg->log.target, LOG_TARGET_STDERR);
	cr_assert_eq(cfg->log.format, LOG_FORMAT_KV);
	cr_assert_eq(cfg->log.level, LOG_INFO);

	/* TLS-1: 25/587/465 of the seed, on unprivileged ports for the demo. */
	cr_assert_eq(cfg->n_listeners, 3);
	cr_assert_str_eq(cfg->listeners[0].name, "mta");
	cr_assert_str_eq(cfg->listeners[0].address, "127.0.0.1");
	cr_assert_eq(cfg->listeners[0].port, 2525);
	cr_assert_eq(cfg->listeners[0].mode, LISTENER_MTA);
	cr_assert_eq(cfg->listeners[0].tls, LISTENER_TLS_STARTTLS);
	cr_assert_eq(cfg->listeners[0].auth, LISTENER_AUTH_OFF);
	cr_assert_eq(cfg->listeners[1].port, 2587);
	cr_assert_eq(cfg->listeners[1].mode, LISTENER_SUBMISSION);
	cr_assert_eq(cfg->listeners[1].tls, LISTENER_TLS_STARTTLS);
	cr_assert_eq(cfg->listeners[1].auth, LISTENER_AUTH_REQUIRED);
	cr_assert_eq(cfg->listeners[2].port, 2465);
	cr_assert_eq(cfg->listeners[2].tls, LISTENER_TLS_IMPLICIT);
	cr_assert_eq(cfg->listeners[2].auth, LISTENER_AUTH_REQUIRED);
	cr_assert_eq(cfg->tls.min_version, CONFIG_TLS_1_2);
	cr_assert_eq(cfg->outbound_tls.level, TLS_LEVEL_MAY);
	/* TLS-8: DANE is off until asked for; its anchor is Debian's root key. */
	cr_assert_not(cfg->outbound_tls.dane.enabled);
	cr_assert_str_eq(cfg->outbound_tls.dane.trust_anchor, "/usr/share/dns/root.key");
	cr_assert_null(cfg->outbound_tls.dane.resolver);
	/* TLS-8: TLS-RPT is off until asked for; its addresses default at use. */
	cr_assert_not(cfg->outbound_tls.tlsrpt.enabled);
	cr_assert_null(cfg->outbound_tls.tlsrpt.from);
	cr_assert_eq(cfg->auth.max_failures, 5);
	cr_assert_null(cfg->auth.credentials);
	cr_assert_eq(cfg->n_certificates, 0);

	cr_assert_eq(cfg->n_local_domains, 1);
	cr_assert_str_eq(cfg->local_domains[0], "example.test");

	cr_assert_eq(cfg->trusted_networks.n, 2);
	cr_assert_eq(cfg->trusted_networks.items[0].family, AF_INET);
	cr_assert_eq(cfg->trusted_networks.items[0].prefix, 32);
	cr_assert_eq(cfg->trusted_networks.items[0].addr[0], 127);
	cr_assert_eq(cfg->trusted_networks.items[1].family, AF_INET6);
	cr_assert_eq(cfg->trusted_networks.items[1].prefix, 128);

	cr_assert_eq(cfg->n_routes, 1);
	cr_assert_str_eq(cfg->routes[0].domain, "example.test");
	cr_assert_not(cfg->routes[0].subdomains);
	cr_assert_eq(cfg->routes[0].kind, ROUTE_MAILDIR);
	cr_assert_str_eq(cfg->routes[0].path, "maildir/example.test");

	cr_assert_eq(cfg->limits.line_length, 2048);
	cr_assert_eq(cfg->limits.message_size, 25 * 1024 * 1024);
	cr_assert_eq(cfg->limits.recipients, 1000);
	cr_assert_eq(cfg->limits.connections, 1000);
	cr_assert_eq(cfg->limits.connections_per_ip, 20);
	cr_assert_eq(cfg->limits.command_timeout, 300);
	cr_assert_eq(cfg->limits.data_timeout, 600);
	cr_assert_eq(cfg->limits.errors, 10);

	cr_assert_eq(cfg->queue->retry_min, 60);
	cr_assert_eq(cfg->queue->retry_max, 3600);
	cr_assert_eq(cfg->queue->lifetime, 5 * 86400);
	cr_assert_eq(cfg->queue->delivery_concurrency, 20);
	cr_assert_eq(cfg->queue->connect_timeout, 30);
	cr_assert_eq(cfg->queue->reply_timeout, 300);
}

/* The demo's submission listeners require AUTH and it has no users. */
Test(config, embedded_default_warns_only_that_nobody_can_log_in)
{
	struct config_errors w = { 0 };
	cfg = config_load(NULL, &errs);
	assert_loaded();
	config_warnings(cfg, &w);
	cr_assert_eq(w.n, 2, "first warning: %s", w.n ? w.items[0] : "");
	cr_assert_str_eq(w.items[0], "<embedded default>: warning: listener submission requires AUTH but "
				     "auth.credentials is not set: nobody can log in there");
	config_errors_free(&w);
}

/* Issue 11: the demo scans content with a rule set that depends on what
 * is installed; a configuration file without scan: scans nothing. */
Test(config, embedded_default_scans_content_both_ways)
{
	const char *what, *rules = config_default_rules(&what);
	cfg = config_load(NULL, &errs);
	assert_loaded();
	cr_assert_not_null(cfg->scan);
	if (rules) {
		cr_assert_eq(cfg->scan->n_rules, 1);
		cr_assert_str_eq(cfg->scan->rules[0], rules);
		cr_assert_eq(cfg->scan->rules_line, 0);  /* no line of a user's file to name */
	}
	const char *checks[] = { "headers", "verdict_headers", "mime", "rules", "bayes" };
	const struct scan_direction *dirs[] = { &cfg->scan->inbound, &cfg->scan->outbound };
	/* GTUBE scores through the gtube check, or SpamAssassin's own rule. */
	bool spamassassin = rules && strcmp(rules, "/usr/share/spamassassin") == 0;
	int gtube = content_check_index("gtube", 5);
	for (size_t d = 0; d < 2; d++) {
		for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
			int k = content_check_index(checks[i], strlen(checks[i]));
			cr_assert_geq(k, 0);
			cr_assert_eq(dirs[d]->content[k].action, SCAN_CHECK_SCORE, "%s", checks[i]);
		}
		cr_assert_eq(dirs[d]->content[gtube].action, spamassassin ? SCAN_CHECK_OFF : SCAN_CHECK_SCORE);
	}
	cr_assert_eq(cfg->scan->outbound.tag, 500);
	cr_assert_eq(cfg->scan->outbound.quarantine, 0);  /* the demo's own mail is tagged, never held */
	cr_assert_eq(cfg->scan->inbound.refuse, 1500);
}

/* Issue 12: the demo refuses the EICAR test file through the project's
 * YARA rules (rules/yara), in both directions, with no clamd. */
Test(config, embedded_default_runs_the_shipped_yara_rules)
{
	cfg = config_load(NULL, &errs);
	assert_loaded();
	cr_assert_not_null(cfg->scan->yara);
	const char *dir = cfg->scan->yara->rules;
	cr_assert(strlen(dir) >= 10 && strcmp(dir + strlen(dir) - 10, "rules/yara") == 0, "%s", dir);
	cr_assert_null(cfg->scan->clamd);
	int yara = content_check_index("yara", 4), clamav = content_check_index("clamav", 6);
	cr_assert_eq(cfg->scan->inbound.content[yara].action, SCAN_CHECK_REFUSE);
	cr_assert_eq(cfg->scan->outbound.content[yara].action, SCAN_CHECK_REFUSE);
	cr_assert_eq(cfg->scan->inbound.content[clamav].action, SCAN_CHECK_OFF);
}

/* A configured engine switches its check on at refuse where a direction
 * leaves it off, and keeps what a direction chose. */
Test(config, configuring_an_engine_switches_its_check_on)
{
	load("scan:\n  clamd: {address: \"127.0.0.1:3310\", timeout_ms: 500, fail_open: true}\n"
	     "  outbound:\n    checks: {clamav: {action: score, points: 7}}\n");
	assert_loaded();
	int clamav = content_check_index("clamav", 6);
	cr_assert_eq(cfg->scan->inbound.content[clamav].action, SCAN_CHECK_REFUSE);
	cr_assert_eq(cfg->scan->outbound.content[clamav].action, SCAN_CHECK_SCORE);
	cr_assert_eq(cfg->scan->outbound.content[clamav].points, 700);
	cr_assert_eq(cfg->scan->clamd->target.timeout_ms, 500);
	cr_assert(cfg->scan->clamd->fail_open);
	cr_assert_str_eq(cfg->scan->clamd->address, "127.0.0.1:3310");
	cr_assert_eq(cfg->scan->clamd->scope, CLAMD_SCOPE_ALL, "scope all is the default");
}

/* scan.clamd.scope: attachments leaves the raw message and the inline
 * text out of clamd's scans. */
Test(config, clamd_scope_attachments_is_read)
{
	load("scan:\n  clamd: {address: \"127.0.0.1:3310\", scope: attachments}\n");
	assert_loaded();
	cr_assert_eq(cfg->scan->clamd->scope, CLAMD_SCOPE_ATTACHMENTS);
}

Test(config, a_file_without_scan_section_scans_nothing)
{
	load("limits:\n  message_size: 10M\n");
	assert_loaded();
	cr_assert_null(cfg->scan);
}

Test(config, default_rules_fall_back_to_the_built_in_set_without_spamassassin)
{
	char dir[] = "/tmp/mw-test-rules-XXXXXX", file[64];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/base.cf", dir);
	const char *what;
	/* Debian's directory missing: the built-in file, while it exists ... */
	cr_assert_null(config_default_rules_in("/nonexistent/spamassassin", file, &what));
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_str_eq(config_default_rules_in("/nonexistent/spamassassin", file, &what), file);
	cr_assert_not_null(strstr(what, "built-in"));
	/* ... and Debian's rules first when they are there. */
	cr_assert_str_eq(config_default_rules_in(dir, file, &what), dir);
	cr_assert_str_eq(what, "Debian's spamassassin package");
	unlink(file);
	rmdir(dir);
}

/* ---- overriding ---- */

Test(config, one_key_overrides_and_the_rest_stays)
{
	load("limits:\n  message_size: 10M\n");
	assert_loaded();
	cr_assert_str_eq(cfg->source, path);
	cr_assert_eq(cfg->limits.message_size, 10 * 1024 * 1024);
	cr_assert_eq(cfg->limits.recipients, 1000);
	cr_assert_eq(cfg->limits.line_length, 2048);
	cr_assert_eq(cfg->n_listeners, 3);
	cr_assert_eq(cfg->listeners[0].port, 2525);
	cr_assert_str_eq(cfg->user, "mailwarden");
}

Test(config, empty_file_is_the_default)
{
	load("# nothing here\n");
	assert_loaded();
	cr_assert_eq(cfg->n_listeners, 3);
	cr_assert_eq(cfg->queue->lifetime, 5 * 86400);
}

Test(config, all_scalar_types)
{
	load("hostname: MX1.Example.org\n"
	     "user: mw\n"
	     "smtpd_processes: 64\n"
	     "shutdown_grace: 0\n"
	     "log: {target: syslog, format: json, level: debug}\n"
	     "limits:\n"
	     "  line_length: 64k\n"
	     "  message_size: 2G\n"
	     "  command_timeout: 90\n"
	     "  data_timeout: 1h\n"
	     "queue:\n"
	     "  retry_min: 1s\n"
	     "  retry_max: 7d\n"
	     "  lifetime: 1m\n");
	assert_loaded();
	cr_assert_str_eq(cfg->hostname, "MX1.Example.org");
	cr_assert_str_eq(cfg->user, "mw");
	cr_assert_eq(cfg->smtpd_processes, 64);
	cr_assert_eq(cfg->shutdown_grace, 0);
	cr_assert_eq(cfg->log.target, LOG_TARGET_SYSLOG);
	cr_assert_eq(cfg->log.format, LOG_FORMAT_JSON);
	cr_assert_eq(cfg->log.level, LOG_DEBUG);
	cr_assert_eq(cfg->limits.line_length, 65536);
	cr_assert_eq(cfg->limits.message_size, 2ULL * 1024 * 1024 * 1024);
	cr_assert_eq(cfg->limits.command_timeout, 90);
	cr_assert_eq(cfg->limits.data_timeout, 3600);
	cr_assert_eq(cfg->queue->retry_min, 1);
	cr_assert_eq(cfg->queue->retry_max, 7 * 86400);
	cr_assert_eq(cfg->queue->lifetime, 60);
}

Test(config, log_levels_map_to_syslog)
{
	load("log: {level: warning}\n");
	assert_loaded();
	cr_assert_eq(cfg->log.level, LOG_WARNING);
	load("log: {level: error}\n");
	assert_loaded();
	cr_assert_eq(cfg->log.level, LOG_ERR);
}

Test(config, lists_replace_the_default)
{
	load("listeners:\n"
	     "  - {name: mx, address: '::', port: 25}\n"
	     "  - {name: submission, address: 0.0.0.0, port: 587}\n"
	     "local_domains: [Example.ORG, sub.example.org]\n"
	     "trusted_networks: [10.0.0.0/8]\n"
	     "routes:\n"
	     "  example.org: lmtp://10.0.0.5\n"
	     "  .Example.org: smtp://[2001:db8::1]:2525\n");
	assert_loaded();
	cr_assert_eq(cfg->n_listeners, 2);
	cr_assert_str_eq(cfg->listeners[0].name, "mx");
	cr_assert_str_eq(cfg->listeners[0].address, "::");
	cr_assert_eq(cfg->listeners[1].port, 587);
	cr_assert_eq(cfg->n_local_domains, 2);
	cr_assert_str_eq(cfg->local_domains[0], "example.org");
	cr_assert_eq(cfg->trusted_networks.n, 1);
	cr_assert_eq(cfg->trusted_networks.items[0].prefix, 8);
	cr_assert_eq(cfg->n_routes, 2);
	cr_assert_eq(cfg->routes[0].kind, ROUTE_LMTP);
	cr_assert_str_eq(cfg->routes[0].port, "24");
	cr_assert_str_eq(cfg->routes[1].domain, "example.org");
	cr_assert(cfg->routes[1].subdomains);
	cr_assert_str_eq(cfg->routes[1].host, "2001:db8::1");
	cr_assert(config_is_local_domain(cfg, "SUB.example.org", 15));
	cr_assert_not(config_is_local_domain(cfg, "example.test", 12));
}

Test(config, empty_lists_are_allowed_except_listeners)
{
	load("local_domains: []\ntrusted_networks:\nroutes: {}\n");
	assert_loaded();
	cr_assert_eq(cfg->n_local_domains, 0);
	cr_assert_eq(cfg->trusted_networks.n, 0);
	cr_assert_eq(cfg->n_routes, 0);
	load("listeners: []\n");
	assert_only_error(1, "listeners: at least one listener is needed");
}

/* Issue 18 item 1: the pregreet delay per listener, off by default. */
Test(config, listener_greet_delay)
{
	load("listeners:\n"
	     "  - {name: mx, address: 127.0.0.1, port: 25, greet_delay: 3s}\n"
	     "  - {name: sub, address: 127.0.0.1, port: 587}\n");
	assert_loaded();
	cr_assert_eq(cfg->listeners[0].greet_delay, 3);
	cr_assert_eq(cfg->listeners[1].greet_delay, 0);
	load("listeners:\n"
	     "  - {name: mx, address: 127.0.0.1, port: 25, greet_delay: 2m}\n");
	assert_only_error(2, "listeners[0].greet_delay: must be between 0 and 1m");
}

/* ---- errors: exact form, line numbers, all of them ---- */

Test(config, unknown_key_with_line)
{
	load("hostname: mx.example.org\n"
	     "\n"
	     "limits:\n"
	     "  recipients: 10\n"
	     "  recipient: 10\n");
	assert_only_error(5, "limits.recipient: unknown key");
}

Test(config, unknown_top_level_key)
{
	load("# comment\nsmtpd_procs: 4\n");
	assert_only_error(2, "smtpd_procs: unknown key");
}

Test(config, dotted_key_is_not_a_shortcut)
{
	load("limits.message_size: 10M\n");
	assert_only_error(1, "limits.message_size: unknown key");
}

Test(config, every_error_is_reported)
{
	load("limits:\n"
	     "  message_size: 10X\n"
	     "  command_timeout: soon\n"
	     "listeners:\n"
	     "  - name: mta\n"
	     "    address: 127.0.0.1\n"
	     "    port: 70000\n"
	     "trusted_networks:\n"
	     "  - 10.0.0.1/8\n"
	     "routes:\n"
	     "  example.test: ftp://mx\n"
	     "nonsense: 1\n");
	cr_assert_null(cfg);
	cr_assert_eq(errs.n, 6, "got:\n%s", all_errors());
	assert_error(2, "limits.message_size: not a size (use e.g. 10M, 512k or a number of bytes)");
	assert_error(3, "limits.command_timeout: not a duration (use e.g. 30s, 5m, 1h, 2d or a number of seconds)");
	assert_error(7, "listeners[0].port: must be between 1 and 65535");
	assert_error(9, "trusted_networks[0]: not a network (use e.g. 192.0.2.0/24 or 2001:db8::/32, with the host bits zero)");
	assert_error(11, "routes.example.test: unknown scheme (use smtp://, smtps://, lmtp:// or maildir:)");
	assert_error(12, "nonsense: unknown key");
	/* reported in file order */
	cr_assert(strstr(errs.items[0], ":2: "));
	cr_assert(strstr(errs.items[5], ":12: "));
}

Test(config, bad_size)
{
	load("limits:\n  message_size: 10 M\n");
	assert_only_error(2, "limits.message_size: not a size (use e.g. 10M, 512k or a number of bytes)");
}

Test(config, size_out_of_bounds_names_the_bounds)
{
	load("limits:\n  message_size: 3G\n");
	assert_only_error(2, "limits.message_size: must be between 1k and 2G");
}

Test(config, bad_duration)
{
	load("queue:\n  lifetime: 5w\n");
	assert_only_error(2, "queue.lifetime: not a duration (use e.g. 30s, 5m, 1h, 2d or a number of seconds)");
}

Test(config, duration_out_of_bounds)
{
	load("queue:\n  connect_timeout: 11m\n");
	assert_only_error(2, "queue.connect_timeout: must be between 1s and 10m");
}

Test(config, bad_number_and_bounds)
{
	load("smtpd_processes: -1\n");
	assert_only_error(1, "smtpd_processes: not a number (use decimal digits)");
	config_errors_free(&errs);
	load("smtpd_processes: 65\n");
	assert_only_error(1, "smtpd_processes: must be between 1 and 64");
}

Test(config, bad_enum)
{
	load("log:\n  target: file\n");
	assert_only_error(2, "log.target: must be one of: stderr, syslog");
}

Test(config, bad_port)
{
	load("listeners:\n  - name: mta\n    address: 127.0.0.1\n    port: http\n");
	assert_only_error(4, "listeners[0].port: not a number (use decimal digits)");
}

Test(config, bad_cidr)
{
	load("trusted_networks:\n  - 127.0.0.1/32\n  - 10.0.0.0/08\n");
	assert_only_error(3, "trusted_networks[1]: not a network (use e.g. 192.0.2.0/24 or 2001:db8::/32, with the host bits zero)");
}

Test(config, bad_route)
{
	load("routes:\n  .example.org: smtp://mx:0\n");
	assert_only_error(2, "routes..example.org: bad port (use a number from 1 to 65535)");
	config_errors_free(&errs);
	load("routes:\n  example.org: maildir:../elsewhere\n");
	assert_only_error(2, "routes.example.org: maildir path must not contain a \"..\" component");
}

Test(config, bad_route_key)
{
	load("routes:\n  exa_mple.org: smtp://mx\n");
	assert_only_error(2, "routes.exa_mple.org: not a domain name (letters, digits, '-' and '.')");
}

Test(config, duplicate_route_ignores_case)
{
	load("routes:\n  example.org: smtp://a\n  Example.ORG: smtp://b\n");
	assert_only_error(3, "routes.Example.ORG: duplicate route (domains compare without regard to case)");
}

Test(config, listener_tls_auth_and_networks)
{
	load("listeners:\n"
	     "  - name: sub\n"
	     "    address: 127.0.0.1\n"
	     "    port: 587\n"
	     "    mode: submission\n"
	     "    trusted_networks:\n"
	     "      - 192.0.2.0/24\n"
	     "  - name: smtps\n"
	     "    address: 127.0.0.1\n"
	     "    port: 465\n"
	     "    tls: implicit\n"
	     "    auth: optional\n"
	     "tls_required_domains:\n"
	     "  - Secure.Example\n"
	     "tls_policy:\n"
	     "  bank.example: verify TLSv1.3\n"
	     "  .partner.example: encrypt\n"
	     "certificates:\n"
	     "  - cert: a.crt\n"
	     "    key: /etc/a.key\n");
	assert_loaded();
	cr_assert_eq(cfg->listeners[0].auth, LISTENER_AUTH_REQUIRED);  /* submission's default */
	cr_assert_eq(cfg->listeners[0].tls, LISTENER_TLS_STARTTLS);
	cr_assert_eq(cfg->listeners[0].trusted_networks.n, 1);
	cr_assert_eq(cfg->listeners[1].mode, LISTENER_MTA);
	cr_assert_eq(cfg->listeners[1].auth, LISTENER_AUTH_OPTIONAL);
	cr_assert_eq(cfg->listeners[1].tls, LISTENER_TLS_IMPLICIT);
	cr_assert(config_tls_required_domain(cfg, "secure.EXAMPLE", 14));
	cr_assert_not(config_tls_required_domain(cfg, "example", 7));
	cr_assert_eq(cfg->n_tls_policy, 2);
	cr_assert_eq(cfg->tls_policy[0].level, TLS_LEVEL_VERIFY);
	cr_assert_eq(cfg->tls_policy[0].min_version, CONFIG_TLS_1_3);
	cr_assert(cfg->tls_policy[1].subdomains);
	cr_assert_eq(cfg->tls_policy[1].min_version, 0);
	cr_assert_eq(cfg->n_certificates, 1);
	cr_assert_eq(cfg->certificates[0].cert[0], '/');  /* relative to the file */
	cr_assert_str_eq(cfg->certificates[0].key, "/etc/a.key");
}

Test(config, bad_tls_entries)
{
	load("tls_policy:\n"
	     "  bank.example: always\n"
	     "certificates:\n"
	     "  - cert: a.crt\n"
	     "tls:\n"
	     "  min_version: TLSv1.1\n");
	cr_assert_null(cfg);
	assert_error(2, "tls_policy.bank.example: must be none, may, encrypt or verify, optionally followed by TLSv1.2 or TLSv1.3");
	assert_error(4, "certificates[0]: needs both cert and key");
	assert_error(6, "tls.min_version: must be one of: TLSv1.2, TLSv1.3");
}

Test(config, bad_listener_entries)
{
	load("listeners:\n"
	     "  - name: mta\n"
	     "    address: localhost\n"
	     "    port: 25\n"
	     "  - name: mta\n"
	     "    address: 127.0.0.1\n"
	     "    port: 25\n"
	     "    tls: yes\n"
	     "  - name: third\n");
	cr_assert_null(cfg);
	assert_error(3, "listeners[0].address: not a numeric IPv4 or IPv6 address");
	assert_error(5, "listeners[1].name: duplicate listener name mta (also listeners[0])");
	assert_error(8, "listeners[1].tls: must be one of: none, starttls, implicit");
	assert_error(9, "listeners[2]: missing address");
	assert_error(9, "listeners[2]: missing port");
	cr_assert_eq(errs.n, 5, "got:\n%s", all_errors());
}

Test(config, listener_address_and_port_unique)
{
	load("listeners:\n"
	     "  - {name: a, address: '::1', port: 25}\n"
	     "  - {name: b, address: '0::1', port: 25}\n"
	     "  - {name: c, address: '::1', port: 26}\n");
	assert_only_error(3, "listeners[1]: same address and port as listeners[0]");
}

Test(config, too_many_listeners)
{
	char yaml[4096];
	size_t o = (size_t)snprintf(yaml, sizeof(yaml), "listeners:\n");
	for (int i = 0; i < 33; i++)
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "  - {name: l%d, address: 127.0.0.1, port: %d}\n",
				      i, 2000 + i);
	load(yaml);
	assert_only_error(1, "listeners: at most 32 listeners are allowed");
}

Test(config, local_domain_checks)
{
	load("local_domains:\n  - example.org\n  - EXAMPLE.org\n  - bad..org\n  - trailing.dot.\n");
	cr_assert_null(cfg);
	assert_error(3, "local_domains[1]: duplicate domain example.org");
	assert_error(4, "local_domains[2]: empty label in domain name");
	assert_error(5, "local_domains[3]: domain name ends with '.'");
	cr_assert_eq(errs.n, 3, "got:\n%s", all_errors());
}

Test(config, wrong_node_types)
{
	load("limits: 5\n"
	     "listeners: {name: a}\n"
	     "routes: [a]\n"
	     "hostname: [a, b]\n"
	     "user: {a: b}\n"
	     "local_domains: example.org\n");
	cr_assert_null(cfg);
	assert_error(1, "limits: expected a mapping");
	assert_error(2, "listeners: expected a list of listeners");
	assert_error(3, "routes: expected a mapping of domain to next hop");
	assert_error(4, "hostname: expected a single value, not a list");
	assert_error(5, "user: expected a single value, not a mapping");
	assert_error(6, "local_domains: expected a list of domain names");
	cr_assert_eq(errs.n, 6, "got:\n%s", all_errors());
}

Test(config, missing_value)
{
	load("user:\nsmtpd_user: ~\n");
	cr_assert_null(cfg);
	assert_error(1, "user: missing value");
	assert_error(2, "smtpd_user: missing value");
}

Test(config, top_level_must_be_a_mapping)
{
	load("\n- a\n- b\n");
	assert_only_error(2, "the configuration must be a mapping of keys to values");
}

Test(config, yaml_syntax_error_has_file_and_line)
{
	char prefix[128];
	load("hostname: mx.example.org\nlimits:\n  recipients: [1,\n  errors: 3\n");
	cr_assert_null(cfg);
	cr_assert_geq(errs.n, 1);
	snprintf(prefix, sizeof(prefix), "%s:4: YAML syntax error: ", path);
	cr_assert(strncmp(errs.items[0], prefix, strlen(prefix)) == 0, "got:\n%s", all_errors());
}

Test(config, duplicate_yaml_key_is_an_error)
{
	load("user: a\nuser: b\n");
	cr_assert_null(cfg);
	cr_assert_eq(errs.n, 1);
	assert_error(2, "YAML syntax error: duplicate key");
}

Test(config, one_document_only)
{
	load("user: a\n---\nuser: b\n");
	assert_only_error(3, "only one YAML document is allowed");
}

Test(config, missing_file)
{
	char want[128];
	cfg = config_load("/nonexistent/mailwarden.yaml", &errs);
	cr_assert_null(cfg);
	cr_assert_eq(errs.n, 1);
	snprintf(want, sizeof(want), "/nonexistent/mailwarden.yaml: cannot open: No such file or directory");
	cr_assert_str_eq(errs.items[0], want);
}

Test(config, earlier_errors_in_the_list_are_kept)
{
	config_errors_add(&errs, "%s %d", "earlier", 1);
	load("user: mw\n");
	assert_loaded();
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(errs.items[0], "earlier 1");
}

/* ---- cross-checks and derived values ---- */

Test(config, retry_max_below_retry_min)
{
	load("queue:\n  retry_min: 2h\n  retry_max: 1h\n");
	assert_only_error(3, "queue.retry_max: must not be shorter than queue.retry_min");
	config_errors_free(&errs);
	/* only retry_min written: it is the one to blame */
	load("queue:\n  retry_min: 2h\n");
	assert_only_error(2, "queue.retry_min: must not be longer than queue.retry_max");
}

Test(config, state_dir_relative_to_the_file)
{
	load("state_dir: data/./mw\n");
	assert_loaded();
	/* the temporary file lives in /tmp */
	cr_assert_str_eq(cfg->state_dir, "/tmp/data/mw");
	load("state_dir: /var//lib/./mailwarden/\n");
	assert_loaded();
	cr_assert_str_eq(cfg->state_dir, "/var/lib/mailwarden");
}

Test(config, maildir_route_path_stays_as_written)
{
	load("routes:\n  example.org: maildir:boxes/./example.org\n");
	assert_loaded();
	cr_assert_str_eq(cfg->routes[0].path, "boxes/./example.org");
}

Test(config, hostname_checked)
{
	load("hostname: mail_server\n");
	assert_only_error(1, "hostname: not a domain name (letters, digits, '-' and '.')");
}

Test(config, is_local_domain)
{
	load("local_domains: [example.org]\n");
	assert_loaded();
	cr_assert(config_is_local_domain(cfg, "example.org", 11));
	cr_assert(config_is_local_domain(cfg, "EXAMPLE.ORG", 11));
	cr_assert_not(config_is_local_domain(cfg, "example.org.", 12));
	cr_assert_not(config_is_local_domain(cfg, "sub.example.org", 15));
	cr_assert_not(config_is_local_domain(cfg, "example.or", 10));
	cr_assert_not(config_is_local_domain(cfg, "example.org\0x", 13));
}

/* Issue 16 item 3: ".example.org" is every subdomain, as in routes. */
Test(config, dot_local_domain_is_every_subdomain)
{
	load(ONE_MTA_LISTENER "local_domains: [.Example.org, example.net]\n"
	     "tls_required_domains: [.secure.example.org]\nroutes: {.example.org: smtp://mx, example.net: smtp://mx}\n");
	assert_loaded();
	cr_assert(config_is_local_domain(cfg, "sub.example.org", 15));
	cr_assert(config_is_local_domain(cfg, "a.B.EXAMPLE.org", 15));
	cr_assert_not(config_is_local_domain(cfg, "example.org", 11));
	cr_assert_not(config_is_local_domain(cfg, ".example.org", 12));
	cr_assert_not(config_is_local_domain(cfg, "notexample.org", 14));
	cr_assert_not(config_is_local_domain(cfg, "sub.example.org.evil", 20));
	cr_assert(config_tls_required_domain(cfg, "mx.secure.example.org", 21));
	cr_assert_not(config_tls_required_domain(cfg, "secure.example.org", 18));
	cr_assert_str_eq(config_postmaster_domain(cfg), "example.net");
	struct config_errors w = warn();
	cr_assert_eq(w.n, 0, "got %s", w.n ? w.items[0] : "");
	config_errors_free(&w);

	/* An exact route for the parent does not serve the tree. */
	load(ONE_MTA_LISTENER "local_domains: [.example.org]\nroutes: {example.org: smtp://mx}\n");
	w = warn();
	cr_assert_eq(w.n, 1);
	cr_assert(strstr(w.items[0], "local domain .example.org has no route"), "got %s", w.items[0]);
	config_errors_free(&w);
	load("local_domains: ['.', '..example.org']\n");
	cr_assert_null(cfg);
}

/* ---- hostile input ---- */

Test(config, huge_number_is_out_of_range)
{
	load("limits:\n  recipients: 99999999999999999999\n  message_size: 99999999999999999999G\n");
	cr_assert_null(cfg);
	assert_error(2, "limits.recipients: must be between 1 and 100000");
	assert_error(3, "limits.message_size: must be between 1k and 2G");
}

Test(config, very_long_value)
{
	size_t n = 100000;
	char *yaml = xmalloc(n + 32);
	memcpy(yaml, "hostname: ", 10);
	memset(yaml + 10, 'a', n);
	memcpy(yaml + 10 + n, "\n", 2);
	load(yaml);
	free(yaml);
	assert_only_error(1, "hostname: must be 1 to 253 bytes long");
}

Test(config, very_long_key_is_cut_in_the_message)
{
	size_t n = 5000;
	char *yaml = xmalloc(n + 32);
	memset(yaml, 'k', n);
	memcpy(yaml + n, ": 1\n", 5);
	load(yaml);
	free(yaml);
	cr_assert_null(cfg);
	cr_assert_eq(errs.n, 1);
	cr_assert_lt(strlen(errs.items[0]), 200, "message not bounded: %zu bytes", strlen(errs.items[0]));
	cr_assert(strstr(errs.items[0], "kkk...: unknown key"), "got %s", errs.items[0]);
}

Test(config, control_characters_are_escaped)
{
	load("\"\\e[31mred\\x01\": 1\n");
	assert_only_error(1, "\\x1b[31mred\\x01: unknown key");
}

Test(config, escaped_nul_in_a_value)
{
	load("user: \"mail\\0warden\"\n");
	assert_only_error(1, "user: contains a NUL byte");
	config_errors_free(&errs);
	load("routes:\n  example.org: \"maildir:/a\\0/../../etc\"\n");
	assert_only_error(2, "routes.example.org: contains a NUL byte");
}

Test(config, raw_nul_byte_in_the_file)
{
	static const char yaml[] = "user: a\nsmtpd_user: b\0c\n";
	load_n(yaml, sizeof(yaml) - 1);
	assert_only_error(2, "the file contains a NUL byte: not a text file?");
}

/* YAML is UTF-8: a byte that is not is named with its line, before the
 * parser sees it (libfyaml looped forever on "%" and 0x8F; fuzz_config). */
Test(config, a_byte_that_is_not_utf8_is_named_with_its_line)
{
	load("user: a\n# caf\xe9 in Latin-1\n");
	assert_only_error(2, "byte 0xE9 is not UTF-8 text (a configuration file is UTF-8)");
	config_errors_free(&errs);
	load("%\x8f");
	assert_only_error(1, "byte 0x8F is not UTF-8 text (a configuration file is UTF-8)");
	config_errors_free(&errs);
	load("# caf\xc3\xa9, gr\xc3\xbc\xc3\x9f" "e\nuser: a\n");
	cr_assert_eq(errs.n, 0, "UTF-8 is fine: %s", errs.n ? errs.items[0] : "");
}

Test(config, deep_nesting)
{
	size_t depth = 10000;
	char *yaml = xmalloc(2 * depth + 32);
	size_t o = 0;
	memcpy(yaml, "limits: ", 8);
	o = 8;
	for (size_t i = 0; i < depth; i++)
		yaml[o++] = '[';
	for (size_t i = 0; i < depth; i++)
		yaml[o++] = ']';
	memcpy(yaml + o, "\n", 2);
	load(yaml);
	free(yaml);
	cr_assert_null(cfg);
	cr_assert_geq(errs.n, 1);
	cr_assert(strstr(errs.items[0], ":1: YAML syntax error: "), "got:\n%s", all_errors());
}

Test(config, aliases_are_refused)
{
	load("user: &u mw\nsmtpd_user: *u\n");
	assert_only_error(2, "smtpd_user: aliases are not supported");
}

Test(config, merge_keys_are_unknown)
{
	load("x: &base {recipients: 5}\nlimits:\n  <<: *base\n");
	cr_assert_null(cfg);
	assert_error(1, "x: unknown key");
	assert_error(3, "limits.<<: unknown key");
}

Test(config, huge_file_is_refused)
{
	size_t n = 2 * 1024 * 1024;
	char *yaml = xmalloc(n);
	memset(yaml, '#', n);
	yaml[n - 1] = '\n';
	load_n(yaml, n);
	free(yaml);
	cr_assert_null(cfg);
	cr_assert_eq(errs.n, 1);
	cr_assert(strstr(errs.items[0], "larger than"), "got %s", errs.items[0]);
}

Test(config, complex_keys_are_refused)
{
	load("? [a, b]\n: 1\n");
	assert_only_error(1, "(top level): keys must be plain names");
}

/* ---- warnings ---- */



Test(config, warns_when_auth_is_required_but_nobody_can_log_in)
{
	char want[256];
	load("listeners: [{name: sub, address: 127.0.0.1, port: 587, mode: submission}]\n");
	struct config_errors w = warn();
	cr_assert_eq(w.n, 1);
	snprintf(want, sizeof(want), "%s: warning: listener sub requires AUTH but auth.credentials is not set: "
		 "nobody can log in there", path);
	cr_assert_str_eq(w.items[0], want);
	config_errors_free(&w);

	load("listeners: [{name: sub, address: 127.0.0.1, port: 587, mode: submission}]\n"
	     "auth: {credentials: /etc/mailwarden/credentials}\n");
	w = warn();
	cr_assert_eq(w.n, 0, "got %s", w.n ? w.items[0] : "");
	config_errors_free(&w);
}

Test(config, warns_on_local_domain_without_route)
{
	char want[256];
	load(ONE_MTA_LISTENER
	     "local_domains: [example.org, a.example.net, b.example.net]\n"
	     "routes:\n"
	     "  example.org: smtp://mx\n"
	     "  .example.net: smtp://mx\n");
	struct config_errors w = warn();
	cr_assert_eq(w.n, 0, "got %s", w.n ? w.items[0] : "");
	config_errors_free(&w);

	load(ONE_MTA_LISTENER
	     "local_domains: [example.org, sub.example.org]\n"
	     "routes:\n"
	     "  .example.org: smtp://mx\n");
	w = warn();
	cr_assert_eq(w.n, 1);
	snprintf(want, sizeof(want),
		 "%s: warning: local domain example.org has no route: its recipients are refused at RCPT "
		 "(554 5.4.4)", path);
	cr_assert_str_eq(w.items[0], want);
	config_errors_free(&w);
}

/* REL-1, issue 16 item 5: an open relay is an error ... */
Test(config, open_relay_is_an_error)
{
	load("trusted_networks: [127.0.0.1/32, 0.0.0.0/0, '::/0']\n");
	cr_assert_null(cfg);
	cr_assert_eq(errs.n, 2, "got:\n%s", all_errors());
	assert_error(1, "trusted_networks[1]: 0.0.0.0/0 makes the gateway an open relay (public addresses beyond "
			"a /8 may relay); narrow it, or set allow_open_relay: true");
	config_errors_free(&errs);
	load("listeners: [{name: mx, address: 127.0.0.1, port: 25, trusted_networks: [10.0.0.0/7]}]\n");
	assert_only_error(1, "listeners[0].trusted_networks[0]: 10.0.0.0/7 makes the gateway an open relay "
			     "(public addresses beyond a /8 may relay); narrow it, or set allow_open_relay: true");
}

Test(config, private_networks_up_to_their_size_are_no_open_relay)
{
	load(ONE_MTA_LISTENER "trusted_networks: [10.0.0.0/8, 'fc00::/7', 'fd00::/8', 192.168.0.0/16]\n");
	assert_loaded();
}

/* ... unless allow_open_relay says it is meant (set after the list). */
Test(config, warns_on_allowed_open_relay)
{
	char want[256];
	load(ONE_MTA_LISTENER "trusted_networks: [127.0.0.1/32, 0.0.0.0/0, '::/0']\nallow_open_relay: true\n");
	struct config_errors w = warn();
	cr_assert_eq(w.n, 2);
	snprintf(want, sizeof(want), "%s: warning: trusted_networks contains 0.0.0.0/0: much of the internet may "
		 "relay (open relay, allowed by allow_open_relay)", path);
	cr_assert_str_eq(w.items[0], want);
	snprintf(want, sizeof(want), "%s: warning: trusted_networks contains ::/0: much of the internet may "
		 "relay (open relay, allowed by allow_open_relay)", path);
	cr_assert_str_eq(w.items[1], want);
	config_errors_free(&w);
}

Test(config, warns_on_wide_trusted_network_with_public_listener)
{
	char want[256];
	/* on loopback only: no warning */
	load(ONE_MTA_LISTENER "trusted_networks: ['fd00::/8']\n");
	struct config_errors w = warn();
	cr_assert_eq(w.n, 0);
	config_errors_free(&w);

	load("listeners: [{name: mx, address: 0.0.0.0, port: 25}]\n"
	     "trusted_networks: [10.0.0.0/8, 'fd00::/8']\n");
	w = warn();
	cr_assert_eq(w.n, 1);
	snprintf(want, sizeof(want), "%s: warning: trusted_networks contains fd00::/8, wider than /16, and listener mx "
		 "is not on loopback (0.0.0.0): far too many clients may relay", path);
	cr_assert_str_eq(w.items[0], want);
	config_errors_free(&w);
}

/* ---- the error list ---- */

Test(config, errors_add_formats_and_grows)
{
	for (int i = 0; i < 100; i++)
		config_errors_add(&errs, "%s:%d: %s", "f", i, "x");
	cr_assert_eq(errs.n, 100);
	cr_assert_str_eq(errs.items[42], "f:42: x");
	config_errors_free(&errs);
	cr_assert_eq(errs.n, 0);
	cr_assert_null(errs.items);
}

/* dns.servers is a list; c-ares gets it joined with commas. */
Test(config, dns_servers_list)
{
	load("dns:\n  servers: [127.0.0.1:5353, \"[::1]:53\", 10.0.0.1, \"::1\"]\n  timeout: 3s\n");
	cr_assert_not_null(cfg);
	cr_assert_str_eq(cfg->dns.servers, "127.0.0.1:5353,[::1]:53,10.0.0.1,::1");
	cr_assert_eq(cfg->dns.timeout, 3);
}

Test(config, dns_servers_bad_entries)
{
	load("dns:\n  servers:\n    - 127.0.0.1:0\n    - ns.example.org\n    - \"[::1\"\n");
	cr_assert_null(cfg);
}

Test(config, smart_host_and_rewrite_table_problems)
{
	load("queue:\n  smart_host: maildir:/x\n");
	assert_only_error(2, "queue.smart_host: a smart host is smtp://host:port, smtps://host:port or lmtp://host:port");
	load("rewrite_table: /nonexistent/mailwarden-rewrite\n");
	cr_assert_null(cfg);
}

/* Issue 10: the queue swaps in a reloaded snapshot while deliveries still
 * hold the old one; the old one lives until the last hold is given back
 * (freed memory here is an ASan report in the sanitizer build). */
Test(config, a_held_snapshot_outlives_the_owner_s_free)
{
	struct config *c = config_load(NULL, &errs);
	cr_assert_not_null(c);
	const struct config *held = config_ref(c);
	cr_assert_eq(c->refs, 1);
	config_free(c);                 /* the owner lets go: the holder still reads it */
	cr_assert_eq(held->refs, 0);
	cr_assert_str_eq(held->source, CONFIG_DEFAULT_SOURCE);
	config_unref(held);             /* the last hold: freed */
}
