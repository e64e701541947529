/*
 * "mailwarden tlsrpt": see tlsrptcmd.h.
 */
#include "ctl/tlsrptcmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/schema.h"
#include "ctl/queuectl.h"
#include "queue/control.h"
#include "util/log.h"

/* The synopsis: on stdout for --help, on stderr for a usage error. */
void tlsrptcmd_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden tlsrpt [-c FILE] show [--day YYYY-MM-DD] [DOMAIN]\n"
		     "       mailwarden tlsrpt [-c FILE] send [--day YYYY-MM-DD]\n");
}

static int usage(void)
{
	tlsrptcmd_usage(stderr);
	return 2;
}

/* A date as the queue reads it; the queue checks that it is a real day. */
static bool day_shaped(const char *s)
{
	static const char shape[] = "dddd-dd-dd";
	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != '-')
			return false;
	return true;
}

/* The control line for argv[from..]; false: a usage error. */
static bool make_line(int argc, char **argv, int from, char *line, size_t size)
{
	bool show = strcmp(argv[from], "show") == 0;
	if (!show && strcmp(argv[from], "send") != 0)
		return false;
	const char *day = NULL, *domain = NULL;
	for (int i = from + 1; i < argc; i++) {
		if (strcmp(argv[i], "--day") == 0 && i + 1 < argc && !day && day_shaped(argv[i + 1]))
			day = argv[++i];
		else if (show && !domain && !schema_check_domain(argv[i], strlen(argv[i])))
			domain = argv[i];
		else
			return false;
	}
	int n = snprintf(line, size, "tlsrpt %s%s%s%s%s", argv[from], day ? " --day " : "", day ? day : "",
			 domain ? " " : "", domain ? domain : "");
	return n > 0 && (size_t)n < size;
}

int tlsrptcmd_main(int argc, char **argv)
{
	const char *path = NULL;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		path = argv[i + 1];
		i += 2;
	}
	char line[CONTROL_LINE_MAX];
	if (i >= argc || !make_line(argc, argv, i, line, sizeof(line)))
		return usage();
	struct config *c = config_load_or_report(path);
	if (!c)
		return 1;
	const char *why = NULL;
	log_init("tlsrpt", c->log.target, c->log.format, c->log.level);
	int rc = queuectl_send(c->state_dir, line, "tlsrpt", &why);
	if (strcmp(argv[i], "send") == 0)
		log_audit_admin(c->log.target == LOG_TARGET_STDERR, line, NULL, rc, why);
	config_free(c);
	return rc;
}
