/* Credentials (crypt(3), constant-time compare) and sender ownership (REL-3). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/authdb.h"
#include "config/config.h"

static struct config *cfg;
static struct auth_db *db;
static char cred_path[] = "/tmp/mw-test-cred-XXXXXX";
static char send_path[] = "/tmp/mw-test-send-XXXXXX";

static void write_file(char *path, const char *text)
{
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void setup(void)
{
	static char *domains[] = { "example.test" };
	char *alice = auth_hash_password("alice-pw", NULL);
	char *bob = auth_hash_password("bob-pw", "$2b$");
	cr_assert(alice && strncmp(alice, "$y$", 3) == 0);
	cr_assert(bob && strncmp(bob, "$2b$", 4) == 0);
	char text[1024];
	snprintf(text, sizeof(text), "# users\nalice@example.test:%s\n\nbob:%s\n", alice, bob);
	free(alice);
	free(bob);
	write_file(cred_path, text);
	write_file(send_path, "sales@example.test alice@example.test,carol\n");
	cfg = calloc(1, sizeof(*cfg));
	cfg->local_domains = domains;
	cfg->n_local_domains = 1;
	cfg->auth.credentials = cred_path;
	cfg->auth.sender_logins = send_path;
	char err[256];
	db = auth_db_load(cfg, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
}

static void teardown(void)
{
	auth_db_free(db);
	unlink(cred_path);
	unlink(send_path);
	free(cfg);
}

TestSuite(authdb, .init = setup, .fini = teardown);

Test(authdb, passwords)
{
	cr_assert(auth_db_check(db, "alice@example.test", "alice-pw"));
	cr_assert(auth_db_check(db, "bob", "bob-pw"));
	cr_assert_not(auth_db_check(db, "alice@example.test", "bob-pw"));
	cr_assert_not(auth_db_check(db, "alice@example.test", "alice-pw "));
	cr_assert_not(auth_db_check(db, "alice@example.test", ""));
	cr_assert_not(auth_db_check(db, "Alice@example.test", "alice-pw"));
	cr_assert_not(auth_db_check(db, "nobody", "alice-pw"));
}

Test(authdb, sender_ownership)
{
	cr_assert(auth_db_sender_ok(db, cfg, "alice@example.test", "alice@example.test"));
	cr_assert(auth_db_sender_ok(db, cfg, "alice@example.test", "ALICE@Example.Test"));
	cr_assert(auth_db_sender_ok(db, cfg, "alice@example.test", ""));  /* null sender */
	cr_assert(auth_db_sender_ok(db, cfg, "alice@example.test", "sales@example.test"));
	cr_assert(auth_db_sender_ok(db, cfg, "carol", "sales@example.test"));
	cr_assert_not(auth_db_sender_ok(db, cfg, "bob", "sales@example.test"));
	cr_assert_not(auth_db_sender_ok(db, cfg, "alice@example.test", "bob@example.test"));
	cr_assert(auth_db_sender_ok(db, cfg, "bob", "bob@example.test"));
	cr_assert_not(auth_db_sender_ok(db, cfg, "bob", "bob@other.test"));
	cr_assert_not(auth_db_sender_ok(db, cfg, "bob", "bobby@example.test"));
	cr_assert_not(auth_db_sender_ok(db, cfg, "bob", "bo@example.test"));
	/* a login that is a substring of a listed one */
	cr_assert_not(auth_db_sender_ok(db, cfg, "alice", "sales@example.test"));
	cr_assert_not(auth_db_sender_ok(db, cfg, "carol,alice", "sales@example.test"));
	cr_assert_not(auth_db_sender_ok(db, cfg, "alice@example.test,carol", "sales@example.test"));
}

Test(authdb, bad_files_name_the_line)
{
	char path[] = "/tmp/mw-test-bad-XXXXXX";
	write_file(path, "alice:$y$ok\nbob plain-password\n");
	struct config c = *cfg;
	c.auth.credentials = path;
	c.auth.sender_logins = NULL;
	char err[512];
	cr_assert_null(auth_db_load(&c, err, sizeof(err)));
	cr_assert(strstr(err, ":2: expected user:hash") != NULL, "%s", err);
	unlink(path);
}
