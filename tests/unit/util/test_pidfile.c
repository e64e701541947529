/* The master's pid file (issue 15): created holding our pid, a stale one
 * (its pid gone) replaced, removed at exit only while it names us. A live
 * holder refusing a second serve is tested with real daemons
 * (tests/system/master/test_ctl.py). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/pidfile.h"
#include "util/sha256hex.h"

static char dir[] = "/tmp/mw-pidfile-XXXXXX";
static char path[256];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	cr_assert(pidfile_path(dir, path, sizeof(path)));
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static long read_pid(void)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	cr_assert_eq(fscanf(f, "%ld", &v), 1);
	fclose(f);
	return v;
}

TestSuite(pidfile, .init = setup, .fini = teardown);

Test(pidfile, claim_writes_our_pid_and_release_removes_it)
{
	char why[512] = "";
	cr_assert(pidfile_claim(path, why, sizeof(why)), "%s", why);
	cr_assert_eq(read_pid(), (long)getpid());
	pidfile_release(path);
	cr_assert_neq(access(path, F_OK), 0, "the pid file must be gone");
}

Test(pidfile, a_stale_file_is_replaced)
{
	write_text("999999999\n");  /* above any pid_max: no such process */
	cr_assert_eq(pidfile_live_master(path), 0);
	char why[512] = "";
	cr_assert(pidfile_claim(path, why, sizeof(why)), "%s", why);
	cr_assert_eq(read_pid(), (long)getpid());
}

Test(pidfile, garbage_is_stale_too)
{
	write_text("not a pid\n");
	char why[512] = "";
	cr_assert(pidfile_claim(path, why, sizeof(why)), "%s", why);
	cr_assert_eq(read_pid(), (long)getpid());
}

Test(pidfile, release_leaves_another_masters_file)
{
	write_text("1\n");
	pidfile_release(path);
	cr_assert_eq(read_pid(), 1L);
}

Test(pidfile, a_process_that_is_not_mailwarden_is_no_master)
{
	/* This test binary is alive but is not the mailwarden program. */
	char text[32];
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	write_text(text);
	cr_assert_eq(pidfile_live_master(path), 0);
}

Test(sha256hex, known_vector)
{
	char hex[SHA256_HEX_LEN + 1];
	cr_assert(sha256_hex("abc", 3, hex));
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
