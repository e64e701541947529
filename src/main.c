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
#include "ctl/lifecycle.h"
#include "ctl/partnerscmd.h"
#include "ctl/tlsrptcmd.h"
#include "ctl/scancmd.h"
#include "master/master.h"
#include "master/preflight.h"
#include "master/revdns.h"
#include "ctl/quarantinectl.h"

/* A command: its entry point gets argv[0] == name and returns the exit
 * status, 0 ok, 1 failed, 2 usage error (docs/man/mailwarden.8.scd). */
struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out);  /* the synopsis: --help (stdout), usage errors (stderr) */
	bool reads_config;         /* takes -c FILE, which may also come before the name */
	const char *summary;       /* its line in "mailwarden --help" */
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

static void serve_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden serve [-c FILE] [-f]\n");
}

static int cmd_serve(int argc, char **argv)
{
	const char *config = NULL;
	bool foreground = false;
	if (!parse_options(argc, argv, true, &config, &foreground)) {
		serve_usage(stderr);
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

static void check_config_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden check-config [-c FILE] [--no-dns] [--levels]\n");
}

static int cmd_check_config(int argc, char **argv)
{
	const char *path = NULL;
	bool dns = true, levels = false;
	if (!parse_check_options(argc, argv, &path, &dns, &levels)) {
		check_config_usage(stderr);
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

static void passwd_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden passwd [-m yescrypt|bcrypt|sha512] USER\n");
}

/* mailwarden passwd [-m yescrypt|bcrypt|sha512] USER: prints a line for
 * auth.credentials. The password comes from stdin (asked twice on a terminal). */
static int cmd_passwd(int argc, char **argv)
{
	const char *prefix = "$y$";
	int opt;
	bool bad = false;  /* stop at the first bad option: moving optind under getopt loops it */
	optind = 1;
	while (!bad && (opt = getopt(argc, argv, "m:")) != -1) {
		if (opt == 'm' && strcmp(optarg, "yescrypt") == 0)
			prefix = "$y$";
		else if (opt == 'm' && strcmp(optarg, "bcrypt") == 0)
			prefix = "$2b$";
		else if (opt == 'm' && strcmp(optarg, "sha512") == 0)
			prefix = "$6$";
		else
			bad = true;
	}
	if (bad || optind != argc - 1 || !argv[optind][0] || strpbrk(argv[optind], ": \t")) {
		passwd_usage(stderr);
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

static void version_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden version\n");
}

static int cmd_version(int argc, char **argv)
{
	if (argc != 1) {
		version_usage(stderr);
		return 2;
	}
	printf("mailwarden %s\n", MW_VERSION);
	return 0;
}

static const struct subcommand subcommands[] = {
	{ "serve", cmd_serve, serve_usage, true, "run the gateway (-f: in the foreground)" },
	{ "check-config", cmd_check_config, check_config_usage, true,
	  "check a configuration, report every problem (--levels: what each emergency level changes)" },
	{ "passwd", cmd_passwd, passwd_usage, false, "print a credentials line (password on stdin)" },
	{ "queue", queuectl_main, queuectl_usage, true, "list, show, flush, hold, release or delete queued mail" },
	{ "ctl", levelctl_main, levelctl_usage, true, "the running gateway: status, reload, stop, or the emergency level" },
	{ "version", cmd_version, version_usage, false, "print the version" },
	{ "learn", learncmd_main, learncmd_usage, true, "train Bayes with spam or ham" },
	{ "scan", scancmd_main, scancmd_usage, true, "content checks on saved messages" },
	{ "dkim-keygen", dkimkeygen_main, dkimkeygen_usage, false, "make a DKIM signing key, print its DNS record" },
	{ "mta-sts", mtastscmd_main, mtastscmd_usage, true, "print the MTA-STS policy and TXT records to publish" },
	{ "tlsrpt", tlsrptcmd_main, tlsrptcmd_usage, true, "TLS-RPT counts and daily reports (RFC 8460)" },
	{ "partners", partnerscmd_main, partnerscmd_usage, true, "known communication partners (SCAN-11)" },
	{ "quarantine", quarantine_command, quarantine_usage, true, "list, show, release or delete held messages" },
};

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

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

/* "mailwarden --help" (stdout, 0) or a usage error (stderr, 2). */
static int overview(FILE *out, int status)
{
	fprintf(out, "usage: mailwarden [-c FILE] COMMAND [ARGS...]\n"
		     "       mailwarden COMMAND -h|--help\n"
		     "commands:\n");
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(out, "  %-13s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(out, "Without -c the embedded default configuration is used.\n"
		     "Exit status: 0 ok, 1 failed, 2 usage error. See mailwarden(8).\n");
	return status;
}

static bool is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* -h or --help among a command's arguments, before a "--" that ends its
 * options: the same for every command, so none parses it itself. */
static bool help_asked(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (is_help(argv[i]))
			return true;
	return false;
}

/* Run sub with "-c FILE" put right after its name, where every command
 * that reads a configuration takes it: "mailwarden -c F queue list" is
 * "mailwarden queue -c F list". */
static int run_with_config(const struct subcommand *sub, const char *config, int argc, char **argv)
{
	char **args = calloc((size_t)argc + 3, sizeof(*args));
	if (!args) {
		perror("mailwarden");
		return 1;
	}
	args[0] = argv[0];
	args[1] = (char *)"-c";
	args[2] = (char *)config;
	for (int i = 1; i < argc; i++)
		args[i + 2] = argv[i];
	int rc = sub->run(argc + 2, args);
	free(args);
	return rc;
}

/* The options before the command: -h, and -c FILE for the command.
 * Returns the command's index in argv, or -1 with *status: help printed
 * (0) or a usage error (2). */
static int global_options(int argc, char **argv, const char **config, int *status)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (is_help(argv[i])) {
			*status = overview(stdout, 0);
			return -1;
		}
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			*config = argv[++i];
		} else if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2]) {
			*config = argv[i] + 2;
		} else {
			fprintf(stderr, "mailwarden: %s '%s'\n",
				strcmp(argv[i], "-c") == 0 ? "a FILE must follow" : "unknown option", argv[i]);
			*status = overview(stderr, 2);
			return -1;
		}
	}
	if (i >= argc) {
		*status = overview(stderr, 2);
		return -1;
	}
	return i;
}

static const struct subcommand *subcommand_find(const char *name)
{
	for (size_t k = 0; k < N_SUBCOMMANDS; k++)
		if (strcmp(name, subcommands[k].name) == 0)
			return &subcommands[k];
	return NULL;
}

int main(int argc, char **argv)
{
	allocator_setup();
	lifecycle_use_check(preflight_check);  /* ctl reload checks the file as serve does */
	const char *config = NULL;
	int status;
	int i = global_options(argc, argv, &config, &status);
	if (i < 0)
		return status;
	const struct subcommand *sub = subcommand_find(argv[i]);
	if (!sub) {
		fprintf(stderr, "mailwarden: unknown command '%s'\n", argv[i]);
		return overview(stderr, 2);
	}
	if (help_asked(argc - i, argv + i)) {
		sub->usage(stdout);
		return 0;
	}
	if (config && !sub->reads_config) {
		fprintf(stderr, "mailwarden: %s reads no configuration file (-c)\n", sub->name);
		sub->usage(stderr);
		return 2;
	}
	return config ? run_with_config(sub, config, argc - i, argv + i) : sub->run(argc - i, argv + i);
}
