/* The smart host's credentials file (queue/smarthost_auth.c, issue 15):
 * one "user password" line, private to its owner and group, and the
 * check-config problems that name file, line and key. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config_file.h"
#include "auth/sasl.h"
#include "queue/config.h"
#include "queue/smarthost_auth.h"

TestSuite(smarthost_auth, .fini = config_file_teardown);

static char path[64];

/* A credentials file with text and mode; its path in path. */
static const char *creds_file(const char *text, mode_t mode)
{
	snprintf(path, sizeof(path), "/tmp/mw-test-relay-creds-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static bool read_creds(const char *text, mode_t mode, struct sasl_creds *out, char *err, size_t errlen)
{
	bool ok = smarthost_auth_read(creds_file(text, mode), out, err, errlen);
	unlink(path);
	return ok;
}

Test(smarthost_auth, the_password_is_the_rest_of_the_line)
{
	struct sasl_creds c;
	char err[600];
	cr_assert(read_creds("# provider\n\nuser@provider.test \t pass word #1\r\n", 0600, &c, err, sizeof(err)),
		  "%s", err);
	cr_assert_str_eq(c.user, "user@provider.test");
	cr_assert_str_eq(c.password, "pass word #1");
	cr_assert(read_creds("u p", 0640, &c, err, sizeof(err)), "%s", err);  /* no final newline */
	cr_assert_str_eq(c.password, "p");
}

struct bad_file {
	char text[80];
	mode_t mode;
	char why[80];   /* the end of the message after the path */
};

ParameterizedTestParameters(smarthost_auth, refuses)
{
	static struct bad_file cases[] = {
		{ "u p\n", 0644, ": mode 0644 lets every user read or change the password;" },
		{ "u p\n", 0602, ": mode 0602 lets every user read or change the password;" },
		{ "u p\n", 0601, ": mode 0601 lets every user read or change the password;" },
		{ "", 0600, ": no 'user password' line" },
		{ "# only a comment\n", 0600, ": no 'user password' line" },
		{ "user\n", 0600, ":1: expected 'user password'" },
		{ "user   \n", 0600, ":1: expected 'user password'" },
		{ "\n u p\n", 0600, ":2: expected 'user password'" },
		{ "u p\nv q\n", 0600, ":2: only one 'user password' line is allowed" },
		{ "u p\x01q\n", 0600, ":1: user and password: 1 to 255 bytes each, no control bytes" },
	};
	return cr_make_param_array(struct bad_file, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_file *b, smarthost_auth, refuses)
{
	struct sasl_creds c;
	char err[600];
	cr_assert_not(read_creds(b->text, b->mode, &c, err, sizeof(err)), "accepted \"%s\"", b->text);
	cr_assert(strncmp(err, path, strlen(path)) == 0, "%s", err);
	cr_assert(strncmp(err + strlen(path), b->why, strlen(b->why)) == 0, "%s", err);
	cr_assert_str_eq(c.password, "");  /* nothing half-read is kept */
}

Test(smarthost_auth, a_missing_file_and_a_directory_are_named)
{
	struct sasl_creds c;
	char err[600];
	cr_assert_not(smarthost_auth_read("/nonexistent/relay", &c, err, sizeof(err)));
	cr_assert_str_eq(err, "/nonexistent/relay: cannot open: No such file or directory");
	cr_assert_not(smarthost_auth_read("/tmp", &c, err, sizeof(err)));
	cr_assert_str_eq(err, "/tmp: not a regular file");
}

/* check-config and the master: "file:line: key: problem" */
static size_t check(const char *yaml)
{
	cr_assert_not_null(load(yaml), "%s", errs.n ? errs.items[0] : "");
	struct config_errors out = { 0 };
	smarthost_auth_check(cfg, &out);
	config_errors_free(&errs);
	errs = out;
	return out.n;
}

/* A use of the fixture's helper that this file does not need. */
Test(smarthost_auth, queue_is_a_section)
{
	cr_assert_not_null(section("queue"));
}

#define BASE "hostname: mx.test\nstate_dir: /tmp\nqueue:\n"

Test(smarthost_auth, check_names_file_line_and_key)
{
	char yaml[512];
	creds_file("u p\n", 0644);
	snprintf(yaml, sizeof(yaml), BASE "  smart_host: smtp://relay.example.net:587\n"
		 "  smart_host_auth: {credentials: %s}\n", path);
	size_t n = check(yaml);
	unlink(path);
	cr_assert_eq(n, 1);
	char want[200];
	snprintf(want, sizeof(want), "5: queue.smart_host_auth.credentials: %s: mode 0644 lets", path);
	cr_assert(strncmp(error(0), want, strlen(want)) == 0, "%s", error(0));
}

Test(smarthost_auth, check_wants_an_smtp_smart_host)
{
	cr_assert_eq(check(BASE "  smart_host_auth: {credentials: /nonexistent/relay}\n"), 1);
	cr_assert_str_eq(error(0), "4: queue.smart_host_auth: needs queue.smart_host (the relay to log in to)");
	cr_assert_eq(check(BASE "  smart_host: lmtp://10.0.0.1\n  smart_host_auth: {credentials: /nonexistent/r}\n"),
		     1);
	cr_assert_str_eq(error(0), "5: queue.smart_host_auth: AUTH is for an smtp:// or smtps:// smart host, "
				   "not lmtp://10.0.0.1");
	cr_assert_eq(check(BASE "  smart_host: smtps://relay.example.net\n"
				"  smart_host_auth: {credentials: /nonexistent/r}\n"), 1);
	cr_assert_str_eq(error(0), "5: queue.smart_host_auth.credentials: /nonexistent/r: cannot open: "
				   "No such file or directory");
	cr_assert_eq(check(BASE "  smart_host: smtps://relay.example.net\n"), 0);
}
