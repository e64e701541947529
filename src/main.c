/*
 * mailwarden: one binary, a table of subcommands.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/authdb.h"
#include "config/check.h"
#include "config/config.h"
#include "ctl/queuectl.h"
#include "ctl/dkimkeygen.h"
#include "ctl/mtastscmd.h"
#include "ctl/learncmd.h"
#include "ctl/levelctl.h"
#include "ctl/partnerscmd.h"
#include "ctl/tlsrptcmd.h"
#include "ctl/scancmd.h"
#include "master/master.h"
#include "master/preflight.h"
#include "master/revdns.h"
#include "ctl/quarantinectl.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

/* Parses [-c FILE] [-f]; allow_f says whether -f is accepted. */
static bool parse_options(int argc, char **argv, bool allow_f, const char **config, bool *foreground)
{
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, allow_f ? "c:f" : "c:")) != -1) {
		if (opt == 'c')
			*config = optarg;
		else if (opt == 'f' && foreground)
			*foreground = true;
		else
			return false;
	}
	return optind == argc;
}

static int cmd_serve(int argc, char **argv)
{
	const char *config = NULL;
	bool foreground = false;
	if (!parse_options(argc, argv, true, &config, &foreground)) {
		fprintf(stderr, "usage: mailwarden serve [-c FILE] [-f]\n");
		return 2;
	}
	return master_run(config, foreground);
}

/* check-config [-c FILE] [--no-dns] [--levels] */
static bool parse_check_options(int argc, char **argv, const char **config, bool *dns, bool *levels)
{
	static const struct option longopts[] = { { "no-dns", no_argument, NULL, 'n' },
						  { "levels", no_argument, NULL, 'l' },
						  { NULL, 0, NULL, 0 } };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (opt == 'c')
			*config = optarg;
		else if (opt == 'n')
			*dns = false;
		else if (opt == 'l')
			*levels = true;
		else
			return false;
	}
	return optind == argc;
}

static void print_levels(const struct config *c)
{
	struct config_errors lines = { 0 };
	config_levels_describe(c, &lines);
	for (size_t i = 0; i < lines.n; i++)
		printf("%s\n", lines.items[i]);
	config_errors_free(&lines);
}

static int cmd_check_config(int argc, char **argv)
{
	const char *path = NULL;
	bool dns = true, levels = false;
	if (!parse_check_options(argc, argv, &path, &dns, &levels)) {
		fprintf(stderr, "usage: mailwarden check-config [-c FILE] [--no-dns] [--levels]\n");
		return 2;
	}
	struct config_errors errs = { 0 }, warnings = { 0 };
	struct config *c = config_load(path, &errs);
	/* The files serve reads (issue 16): "ok" means it will start. */
	if (c)
		preflight_check(c, &errs, &warnings);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.items[i]);
	bool failed = !c || errs.n > 0;
	config_errors_free(&errs);
	if (failed) {
		config_errors_free(&warnings);
		config_free(c);
		return 1;
	}
	printf("%s: configuration ok\n", c->source);
	if (!path) {  /* issue 11: the demo's rule set depends on what is installed */
		const char *what, *rules = config_default_rules(&what);
		printf("%s: scan.rules: %s (%s)\n", c->source, rules ? rules : "none", what);
	}
	config_warnings(c, &warnings);
	if (dns)  /* SEC-3: double-reverse DNS of hostname and queue.source_address */
		revdns_check(c, &warnings);
	for (size_t i = 0; i < warnings.n; i++)
		printf("%s\n", warnings.items[i]);
	config_errors_free(&warnings);
	if (levels)  /* SCAN-11: what each emergency level changes */
		print_levels(c);
	config_free(c);
	return 0;
}

/* One line from stdin without its line ending; no echo on a terminal. */
static bool read_secret(const char *prompt, char *buf, size_t cap)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	bool ok = fgets(buf, (int)cap, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (!ok)
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}

/* mailwarden passwd [-m yescrypt|bcrypt|sha512] USER: prints a line for
 * auth.credentials. The password comes from stdin (asked twice on a terminal). */
static int cmd_passwd(int argc, char **argv)
{
	const char *prefix = "$y$";
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "m:")) != -1) {
		if (opt == 'm' && strcmp(optarg, "yescrypt") == 0)
			prefix = "$y$";
		else if (opt == 'm' && strcmp(optarg, "bcrypt") == 0)
			prefix = "$2b$";
		else if (opt == 'm' && strcmp(optarg, "sha512") == 0)
			prefix = "$6$";
		else
			optind = argc + 1;
	}
	if (optind != argc - 1 || !argv[optind][0] || strpbrk(argv[optind], ": \t")) {
		fprintf(stderr, "usage: mailwarden passwd [-m yescrypt|bcrypt|sha512] USER\n");
		return 2;
	}
	char pw[256], again[256];
	if (!read_secret("Password: ", pw, sizeof(pw)) || !pw[0]) {
		fprintf(stderr, "mailwarden passwd: no password given\n");
		return 1;
	}
	if (isatty(STDIN_FILENO) && (!read_secret("Again: ", again, sizeof(again)) || strcmp(pw, again) != 0)) {
		fprintf(stderr, "mailwarden passwd: the passwords differ\n");
		return 1;
	}
	char *hash = auth_hash_password(pw, prefix);
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(again, sizeof(again));
	if (!hash) {
		fprintf(stderr, "mailwarden passwd: crypt(3) failed\n");
		return 1;
	}
	printf("%s:%s\n", argv[optind], hash);
	free(hash);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	printf("mailwarden %s\n", MW_VERSION);
	return 0;
}

static const struct subcommand subcommands[] = {
	{ "serve", cmd_serve, "serve [-c FILE] [-f]   run the gateway (-f: foreground, log to stderr)" },
	{ "check-config", cmd_check_config, "check-config [-c FILE] [--no-dns] [--levels]   check a configuration, report every problem (--levels: what each emergency level changes)" },
	{ "passwd", cmd_passwd, "passwd [-m yescrypt|bcrypt|sha512] USER   print a credentials line (password on stdin)" },
	{ "queue", queuectl_main, "queue [-c FILE] list [--json] | show ID | flush [ID] | hold ID | release ID | delete ID" },
	{ "ctl", levelctl_main, "ctl [-c FILE] status | level [N|NAME] [--for DURATION] [--rehearse] [--reason TEXT]   the emergency level (SCAN-11)" },
	{ "version", cmd_version, "version   print the version" },
	{ "learn", learncmd_main, "learn [-c FILE] --spam|--ham|--forget MESSAGE|MBOX|DIRECTORY...   train Bayes" },
	{ "scan", scancmd_main, "scan [-c FILE] [--outbound] [--auth LOGIN] [--all] [--json] [--pcre-only] MESSAGE...   content checks on saved messages" },
	{ "dkim-keygen", dkimkeygen_main, "dkim-keygen DOMAIN SELECTOR [--bits N] [--out FILE]   make a DKIM signing key, print its DNS record" },
	{ "mta-sts", mtastscmd_main, "mta-sts [-c FILE] policy [--mode enforce|testing|none] [--max-age SECONDS]   print the MTA-STS policy and TXT records to publish" },
	{ "tlsrpt", tlsrptcmd_main, "tlsrpt [-c FILE] show [--day YYYY-MM-DD] [DOMAIN] | send [--day YYYY-MM-DD]   TLS-RPT counts and daily reports (RFC 8460)" },
	{ "partners", partnerscmd_main, "partners [-c FILE] list|export|expire | add|remove INTERNAL EXTERNAL | import FILE|-   known communication partners (SCAN-11)" },
	{ "quarantine", quarantine_command, "quarantine [-c FILE] list|show|release|delete|digest ...   held messages" },
};

static int usage(void)
{
	fprintf(stderr, "usage: mailwarden COMMAND [OPTIONS]\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(stderr, "  mailwarden %s\n", subcommands[i].usage);
	fprintf(stderr, "Without -c the embedded default configuration is used.\n");
	return 2;
}

/* The allocator's thresholds, fixed. By default glibc gives memory back
 * (brk shrink, munmap) as soon as 128 KiB lie free at the top of a heap,
 * and moves its mmap threshold with every large free; the message path
 * allocates and frees IPC messages (64 KiB) and message buffers by the
 * thousand a second, so each burst shrank and regrew the heap: brk calls,
 * page faults, and in threaded processes TLB shootdowns on every CPU
 * (the scanner's profile: a third of its time). Keeping up to 32 MiB of
 * free heap and mapping only blocks of 4 MiB and more ends that churn. */
static void allocator_setup(void)
{
	mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
}

int main(int argc, char **argv)
{
	allocator_setup();
	if (argc < 2)
		return usage();
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "mailwarden: unknown command '%s'\n", argv[1]);
	return usage();
}
