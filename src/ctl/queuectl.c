#include "ctl/queuectl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "queue/control.h"
#include "queue/envelope.h"
#include "util/log.h"

/* The synopsis: on stdout for --help, on stderr for a usage error. */
void queuectl_usage(FILE *out)
{
	fprintf(out, "usage: mailwarden queue [-c FILE] list [--json]\n"
			"       mailwarden queue [-c FILE] show|hold|release|delete ID\n"
			"       mailwarden queue [-c FILE] flush [ID]\n");
}

static int usage(void)
{
	queuectl_usage(stderr);
	return 2;
}

static bool arg_ok(const char *cmd, const char *arg)
{
	if (strcmp(cmd, "list") == 0)
		return !arg || strcmp(arg, "--json") == 0;
	if (strcmp(cmd, "flush") == 0)
		return !arg || queue_id_valid(arg);
	if (strcmp(cmd, "show") == 0 || strcmp(cmd, "hold") == 0 || strcmp(cmd, "release") == 0 ||
	    strcmp(cmd, "delete") == 0)
		return arg && queue_id_valid(arg);
	return false;
}

/* Q-3, issue 16: the command, who gave it and how it ended, also when
 * the queue could not be reached (the queue logs what it ran, too). */
static int audit(bool echo, const char *const *words, int rc, const char *why)
{
	char command[128];
	snprintf(command, sizeof(command), "queue %s%s%.40s", words[0], words[1] ? " " : "", words[1] ? words[1] : "");
	log_audit_admin(echo, command, NULL, rc, why);
	return rc;
}

/* Send one command line; its answer goes to stdout (ok) or stderr. */
static int run(int fd, const char *cmd, FILE *answer, const char **why);

int queuectl_main(int argc, char **argv)
{
	const char *path = NULL, *words[3] = { 0 };
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (n < 3)
			words[n++] = argv[i];
		else
			return usage();
	}
	if (n < 1 || n > 2 || !arg_ok(words[0], words[1]))
		return usage();

	struct config *c = config_load_or_report(path);
	if (!c)
		return 1;
	bool echo = c->log.target == LOG_TARGET_STDERR;
	log_init("queuectl", c->log.target, c->log.format, c->log.level);
	char line[CONTROL_LINE_MAX + 2];
	snprintf(line, sizeof(line), "%s%s%s", words[0], words[1] ? " " : "", words[1] ? words[1] : "");
	const char *why = NULL;
	int rc = queuectl_send(c->state_dir, line, "queue", &why);
	config_free(c);
	return audit(echo, words, rc, why);
}

int queuectl_send(const char *state_dir, const char *line, const char *tool, const char **why)
{
	return queuectl_send_to(state_dir, line, tool, stdout, why);
}

int queuectl_send_to(const char *state_dir, const char *line, const char *tool, FILE *answer, const char **why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int len = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", state_dir, CONTROL_SOCKET);
	if (len < 0 || (size_t)len >= sizeof(sa.sun_path)) {
		fprintf(stderr, "mailwarden %s: control socket path too long\n", tool);
		*why = "control socket path too long";
		return 1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*why = strerror(errno);
		fprintf(stderr, "mailwarden %s: cannot reach the queue at %s: %s (is the gateway running?)\n", tool,
			sa.sun_path, *why);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	int rc = run(fd, line, answer, why);
	close(fd);
	return rc;
}

static int run(int fd, const char *cmd, FILE *answer, const char **why)
{
	char line[CONTROL_LINE_MAX + 2];
	int ll = snprintf(line, sizeof(line), "%s\n", cmd);
	if (ll < 0 || (size_t)ll >= sizeof(line) || write(fd, line, (size_t)ll) != ll) {
		fprintf(stderr, "mailwarden queue: write failed\n");
		*why = "write failed";
		return 1;
	}
	/* The first line is "ok" or "error"; the rest goes to stdout (ok) or stderr. */
	char buf[8192];
	char head[8] = "";
	size_t hl = 0;
	bool in_head = true, ok = false;
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		size_t start = 0;
		if (in_head) {
			while (start < (size_t)r && buf[start] != '\n') {
				if (hl + 1 < sizeof(head))
					head[hl++] = buf[start];
				start++;
			}
			if (start < (size_t)r) {
				in_head = false;
				start++;
				head[hl] = '\0';
				ok = strcmp(head, "ok") == 0;
			}
		}
		if (!in_head)
			fwrite(buf + start, 1, (size_t)r - start, ok ? answer : stderr);
	}
	if (in_head) {
		fprintf(stderr, "mailwarden queue: no answer from the queue\n");
		*why = "no answer from the queue";
		return 1;
	}
	if (!ok)
		*why = "refused by the queue";
	return ok ? 0 : 1;
}
