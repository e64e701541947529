#include "ctl/lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/queuectl.h"
#include "util/pidfile.h"

#define RELOAD_WAIT_MS 20000  /* the master checks files and binds: seconds at most */
#define STOP_WAIT_MS 60000    /* shutdown_grace lets sessions finish first */
#define POLL_MS 100

static lifecycle_check_fn serve_check;

void lifecycle_use_check(lifecycle_check_fn check)
{
	serve_check = check;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The live master of c's state_dir, or 0 with a message. */
static pid_t find_master(const struct config *c)
{
	char path[4096];
	pid_t pid = pidfile_path(c->state_dir, path, sizeof(path)) ? pidfile_live_master(path) : 0;
	if (!pid)
		fprintf(stderr, "mailwarden ctl: no running gateway (no live master in %s/%s)\n", c->state_dir,
			PIDFILE_NAME);
	return pid;
}

static bool signal_master(pid_t pid, int sig)
{
	if (kill(pid, sig) == 0)
		return true;
	fprintf(stderr, "mailwarden ctl: cannot signal the master (pid %d): %s\n", (int)pid, strerror(errno));
	return false;
}

/* Does the queue's status name sha256 as its configuration's? */
static bool queue_runs(const struct config *c, const char *sha256)
{
	char *text = NULL;
	size_t len = 0;
	FILE *answer = open_memstream(&text, &len);
	if (!answer)
		return false;
	const char *why = NULL;
	int rc = queuectl_send_to(c->state_dir, "status", "ctl", answer, &why);
	fclose(answer);
	char want[128];
	snprintf(want, sizeof(want), "\nconfig_sha256: %s\n", sha256);
	bool runs = rc == 0 && text && strstr(text, want) != NULL;
	free(text);
	return runs;
}

/* serve's own check of the file; false (problems on stderr) if it fails. */
static bool config_passes(const struct config *c)
{
	if (!serve_check)
		return true;
	struct config_errors errs = { 0 }, warnings = { 0 };
	serve_check(c, &errs, &warnings);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.items[i]);
	bool ok = errs.n == 0;
	config_errors_free(&errs);
	config_errors_free(&warnings);
	return ok;
}

int lifecycle_reload(const struct config *c)
{
	if (!config_passes(c)) {
		fprintf(stderr, "mailwarden ctl: reload refused: the running configuration stays\n");
		return 1;
	}
	pid_t pid = find_master(c);
	if (!pid || !signal_master(pid, SIGHUP))
		return 1;
	if (!c->source_sha256[0]) {  /* the embedded default: nothing to compare */
		printf("reload: signalled\n");
		return 0;
	}
	for (long waited = 0; waited < RELOAD_WAIT_MS; waited += POLL_MS) {
		if (queue_runs(c, c->source_sha256)) {
			printf("reload: ok\nconfig: %s\nconfig_sha256: %s\n", c->source, c->source_sha256);
			return 0;
		}
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "mailwarden ctl: the gateway did not take %s within %d s; the running configuration "
			"stays (see its log, event=reload)\n",
		c->source, RELOAD_WAIT_MS / 1000);
	return 1;
}

int lifecycle_stop(const struct config *c)
{
	pid_t pid = find_master(c);
	if (!pid || !signal_master(pid, SIGTERM))
		return 1;
	for (long waited = 0; waited < STOP_WAIT_MS; waited += POLL_MS) {
		if (!pidfile_pid_is_mailwarden(pid)) {
			printf("stopped: master pid %d\n", (int)pid);
			return 0;
		}
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "mailwarden ctl: the master (pid %d) is still running after %d s\n", (int)pid,
		STOP_WAIT_MS / 1000);
	return 1;
}

/* --- status: the processes from /proc ------------------------------------ */

struct proc_info {
	char comm[32];
	pid_t ppid;
	unsigned long long start_ticks;  /* since boot */
};

/* /proc/PID/stat: "pid (comm) state ppid ... starttime(22) ...". */
static bool read_proc(pid_t pid, struct proc_info *p)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return false;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(close - open - 1), open + 1);
	char state;
	int ppid;
	/* fields 3..22 after the comm: state, ppid, then 17 to skip, starttime */
	if (sscanf(close + 1, " %c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		   &state, &ppid, &p->start_ticks) != 3)
		return false;
	p->ppid = ppid;
	return state != 'Z' && state != 'X';
}

static long long uptime_of(const struct proc_info *p)
{
	double since_boot = 0;
	FILE *f = fopen("/proc/uptime", "re");
	if (!f)
		return -1;
	int ok = fscanf(f, "%lf", &since_boot);
	fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	if (ok != 1 || hz <= 0)
		return -1;
	return (long long)(since_boot - (double)p->start_ticks / (double)hz);
}

/* One line per kind: "pid_KIND: PID PID ..." for the master's children
 * named "mw-KIND". */
static void print_children(FILE *out, pid_t master, const char *kind)
{
	char want[32];
	snprintf(want, sizeof(want), "mw-%s", kind);
	fprintf(out, "pid_%s:", kind);
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		struct proc_info p;
		if (*end || pid <= 0 || !read_proc((pid_t)pid, &p))
			continue;
		if (p.ppid == master && strcmp(p.comm, want) == 0)
			fprintf(out, " %ld", pid);
	}
	if (d)
		closedir(d);
	fputc('\n', out);
}

void lifecycle_print_processes(FILE *out, const struct config *c)
{
	char path[4096] = "";
	pid_t master = pidfile_path(c->state_dir, path, sizeof(path)) ? pidfile_live_master(path) : 0;
	struct proc_info p;
	if (!master || !read_proc(master, &p)) {
		fprintf(out, "pid_master: unknown (no live master in %s)\n", path);
		return;
	}
	fprintf(out, "pid_master: %d\n", (int)master);
	fprintf(out, "pid_file: %s\n", path);
	fprintf(out, "uptime_seconds: %lld\n", uptime_of(&p));
	static const char *const kinds[] = { "queue", "scanner", "smtpd" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		print_children(out, master, kinds[i]);
}
