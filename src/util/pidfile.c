#include "util/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool pidfile_path(const char *state_dir, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", state_dir, PIDFILE_NAME);
	return n > 0 && (size_t)n < cap;
}

/* The first line of a small file; false if it cannot be read. */
static bool read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

static pid_t read_pid(const char *path)
{
	char buf[32];
	if (!read_small(path, buf, sizeof(buf)))
		return 0;
	char *end;
	long v = strtol(buf, &end, 10);
	return v > 0 && v < (1L << 30) && (*end == '\n' || *end == '\0') ? (pid_t)v : 0;
}

bool pidfile_pid_is_mailwarden(pid_t pid)
{
	char path[64], stat[512];
	/* "pid (comm) S ...": the state after the last ')' (comm may hold one). */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!read_small(path, stat, sizeof(stat)))
		return false;
	const char *close = strrchr(stat, ')');
	if (!close || close[1] != ' ' || close[2] == 'Z' || close[2] == 'X')
		return false;
	/* The same program: its executable's name (a recycled pid runs another). */
	char exe[4096];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)  /* not ours to read (another user's): trust the pid */
		return errno == EACCES || errno == EPERM;
	exe[n] = '\0';
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return strncmp(base, "mailwarden", 10) == 0;
}

pid_t pidfile_live_master(const char *path)
{
	pid_t pid = read_pid(path);
	return pid > 0 && pidfile_pid_is_mailwarden(pid) ? pid : 0;
}

static bool write_pid(int fd)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	return write(fd, line, (size_t)n) == n && fsync(fd) == 0;
}

bool pidfile_claim(const char *path, char *why, size_t whylen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd >= 0) {
			bool ok = write_pid(fd);
			close(fd);
			if (ok)
				return true;
			unlink(path);
			snprintf(why, whylen, "%s: cannot write the pid file: %s", path, strerror(errno));
			return false;
		}
		if (errno != EEXIST)
			break;
		pid_t holder = pidfile_live_master(path);
		if (holder > 0 && holder != getpid()) {
			snprintf(why, whylen, "%s: another mailwarden (pid %d) runs on this state directory", path,
				 (int)holder);
			return false;
		}
		unlink(path);  /* stale: its master is gone */
	}
	snprintf(why, whylen, "%s: cannot create the pid file: %s", path, strerror(errno));
	return false;
}

bool pidfile_update(const char *path)
{
	char tmp[4200];
	int n = snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return false;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return false;
	bool ok = write_pid(fd);
	close(fd);
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return false;
	}
	return true;
}

void pidfile_release(const char *path)
{
	if (read_pid(path) == getpid())
		unlink(path);
}
