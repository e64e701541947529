/* The "queue:" section (src/queue/config.c), registered with the loader
 * through config/section.h: its keys and defaults, the smart host parsed
 * into a next hop, the retry delays checked against each other. */
#include <criterion/criterion.h>

#include <string.h>

#include "../config_file.h"
#include "policy/route.h"
#include "queue/config.h"

TestSuite(queue_config, .fini = config_file_teardown);

#define BASE "hostname: mx.test\nstate_dir: /tmp\n"

Test(queue_config, is_a_registered_section)
{
	cr_assert_eq(section("queue"), &queue_config_section);
}

static void assert_defaults(const struct queue_config *q)
{
	cr_assert_not_null(q);
	cr_assert_eq(q->retry_min, 60);
	cr_assert_eq(q->retry_max, 3600);
	cr_assert_eq(q->lifetime, 5 * 86400);
	cr_assert_eq(q->delivery_concurrency, 20);
	cr_assert_eq(q->connect_timeout, 30);
	cr_assert_eq(q->reply_timeout, 300);
	cr_assert_eq(q->mx_port, 25);
	cr_assert_not(q->mx_allow_loopback);
	cr_assert_eq(q->delay_warning, 4 * 3600);
	cr_assert_eq(q->per_destination, 10);
	cr_assert(q->connection_reuse);
	cr_assert_null(q->smart_host);
	cr_assert_null(q->smart_route);
	cr_assert_null(q->bounce_notify);
	cr_assert_null(q->source_address);
	cr_assert_not(q->quarantine_digest);
	cr_assert_eq(q->quarantine_digest_interval, 86400);
	cr_assert_null(q->quarantine_digest_from);
	cr_assert_str_eq(q->quarantine_digest_subject, "Messages held in quarantine");
	cr_assert_eq(q->quarantine_digest_max, 50);
}

/* The embedded default writes "queue: {}": every snapshot has the part. */
Test(queue_config, without_the_section_every_key_has_its_default)
{
	cr_assert_not_null(load(BASE));
	assert_defaults(cfg->queue);
}

Test(queue_config, an_empty_section_has_the_declared_defaults)
{
	cr_assert_not_null(load(BASE "queue: {}\n"));
	assert_defaults(cfg->queue);
}

/* The user's section replaces the default's; unset keys keep their defaults. */
Test(queue_config, a_value_overrides_only_its_key)
{
	cr_assert_not_null(load(BASE "queue:\n  lifetime: 2d\n  bounce_notify: postmaster@example.test\n"));
	cr_assert_eq(cfg->queue->lifetime, 2 * 86400);
	cr_assert_str_eq(cfg->queue->bounce_notify, "postmaster@example.test");
	cr_assert_eq(cfg->queue->retry_min, 60);
	cr_assert_eq(config_key_line(cfg, "queue.bounce_notify"), 5);
	cr_assert_eq(config_key_line(cfg, "queue.retry_min"), 0);
	cr_assert_eq(config_key_line(cfg, "queue.no_such_key"), 0);
}

Test(queue_config, the_smart_host_is_parsed_into_a_next_hop)
{
	cr_assert_not_null(load(BASE "queue:\n  smart_host: smtp://10.0.0.9:25\n"));
	cr_assert_not_null(cfg->queue->smart_route);
	cr_assert_str_eq(cfg->queue->smart_route->host, "10.0.0.9");
	cr_assert_str_eq(cfg->queue->smart_route->domain, "*");
}

/* The smart host is parsed after the walk; its problem still names the
 * line that set it. */
Test(queue_config, a_bad_smart_host_names_its_line)
{
	cr_assert_null(load(BASE "queue:\n  retry_min: 1m\n  smart_host: smtp://\n"));
	cr_assert_eq(errs.n, 1);
	cr_assert(strncmp(error(0), "5: queue.smart_host: ", 21) == 0, "%s", error(0));
}

Test(queue_config, errors_name_file_line_and_key)
{
	cr_assert_null(load(BASE "queue:\n  lifetime: 31d\n  colour: blue\n  source_address: here\n"));
	cr_assert_eq(errs.n, 3);
	cr_assert_str_eq(error(0), "4: queue.lifetime: must be between 1s and 30d");
	cr_assert_str_eq(error(1), "5: queue.colour: unknown key");
	cr_assert(strncmp(error(2), "6: queue.source_address: ", 25) == 0, "%s", error(2));
}

/* The quarantine digest (issue 11): its sender is a mailbox, its subject
 * one printable ASCII line, its interval at most 30 days. */
Test(queue_config, digest_errors_name_line_and_key)
{
	cr_assert_null(load(BASE "queue:\n  quarantine_digest: true\n  quarantine_digest_from: nobody\n"
			   "  quarantine_digest_subject: \"caf\u00e9\"\n  quarantine_digest_interval: 31d\n"
			   "  quarantine_digest_max: 0\n  quarantine_digest_at: \"24:00\"\n"));
	cr_assert_eq(errs.n, 5);
	cr_assert(strncmp(error(0), "5: queue.quarantine_digest_from: not a mailbox", 46) == 0, "%s", error(0));
	cr_assert(strncmp(error(1), "6: queue.quarantine_digest_subject: printable ASCII only", 56) == 0, "%s", error(1));
	cr_assert(strncmp(error(2), "7: queue.quarantine_digest_interval: ", 37) == 0, "%s", error(2));
	cr_assert(strncmp(error(3), "8: queue.quarantine_digest_max: ", 32) == 0, "%s", error(3));
	cr_assert_str_eq(error(4), "9: queue.quarantine_digest_at: must be HH:MM (00:00 to 23:59)");
}

Test(queue_config, digest_keys_are_read)
{
	cr_assert_not_null(load(BASE "queue:\n  quarantine_digest: true\n  quarantine_digest_from: qd@example.test\n"
				 "  quarantine_digest_interval: 12h\n  quarantine_digest_max: 5\n"
				 "  quarantine_digest_at: \"07:30\"\n"));
	cr_assert_str_eq(cfg->queue->quarantine_digest_at, "07:30");
	cr_assert(cfg->queue->quarantine_digest);
	cr_assert_str_eq(cfg->queue->quarantine_digest_from, "qd@example.test");
	cr_assert_eq(cfg->queue->quarantine_digest_interval, 12 * 3600);
	cr_assert_eq(cfg->queue->quarantine_digest_max, 5);
}

/* The retry check comes after config/'s own (open relay) errors, and
 * blames the key the administrator wrote. */
Test(queue_config, retry_delays_are_checked_last)
{
	cr_assert_null(load(BASE "trusted_networks: [0.0.0.0/0]\nqueue:\n  retry_max: 30s\n"));
	cr_assert_eq(errs.n, 2);
	cr_assert(strncmp(error(0), "3: trusted_networks", 19) == 0, "%s", error(0));
	cr_assert_str_eq(error(1), "5: queue.retry_max: must not be shorter than queue.retry_min");
}

/* Issue 15: implicit TLS to the smart host, and its credentials file
 * (read by queue/smarthost_auth.c, not by the loader). */
Test(queue_config, an_smtps_smart_host_speaks_implicit_tls)
{
	cr_assert_not_null(load(BASE "queue:\n  smart_host: smtps://relay.example.net\n"
				"  smart_host_auth: {credentials: /etc/mailwarden/relay}\n"));
	cr_assert(cfg->queue->smart_route->implicit_tls);
	cr_assert_str_eq(cfg->queue->smart_route->port, "465");
	cr_assert_str_eq(cfg->queue->smart_host_auth, "/etc/mailwarden/relay");
	cr_assert_eq(cfg->queue->smart_host_auth_line, 5);
}

Test(queue_config, smart_host_auth_errors_name_line_and_key)
{
	cr_assert_null(load(BASE "queue:\n  smart_host_auth: relay.txt\n"));
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(error(0), "4: queue.smart_host_auth: expected a mapping ({credentials: FILE})");
	config_errors_free(&errs);
	cr_assert_null(load(BASE "queue:\n  smart_host_auth:\n    file: relay.txt\n"));
	cr_assert_eq(errs.n, 2);
	cr_assert_str_eq(error(0), "5: queue.smart_host_auth.file: unknown key (credentials)");
	cr_assert_str_eq(error(1), "4: queue.smart_host_auth: needs credentials: FILE (a \"user password\" line)");
}
