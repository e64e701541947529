/*
 * An LD_PRELOAD fault injector for the spool (issue 14, catalogue case 147):
 * makes one chosen call on files under a path fail, so that a test can show
 * what the gateway does when the disk reports an error at the worst moment.
 *
 * Environment (read once, at the first intercepted call):
 *   MW_FAULT_CALL   fsync | fdatasync | write | pwrite   (which call)
 *   MW_FAULT_PATH   only descriptors whose /proc/self/fd target holds
 *                   this string count (e.g. /state/spool/tmp/)
 *   MW_FAULT_NTH    fail the Nth counted call of this process (1 = the
 *                   first); 0 fails every one
 *   MW_FAULT_ERRNO  the errno to fail with (default EIO)
 *   MW_FAULT_NOOP   1: do not fail a sync call, skip it and claim success (a
 *                   disk that lies: the negative control of the strace
 *                   ordering test)
 *
 * The daemon's children are forked without exec, so the variables set on
 * the master reach the queue process too; the counter is per process
 * (only the queue opens spool files). Nothing is logged from here: the
 * test checks what the gateway itself says.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

struct fault {
	char call[16];
	char path[PATH_MAX];
	long nth;
	int err;
	bool noop;
};

static struct fault fault;
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
static atomic_long counted;

static void fault_load(void)
{
	const char *v;
	if ((v = getenv("MW_FAULT_CALL")))
		snprintf(fault.call, sizeof(fault.call), "%s", v);
	if ((v = getenv("MW_FAULT_PATH")))
		snprintf(fault.path, sizeof(fault.path), "%s", v);
	fault.nth = (v = getenv("MW_FAULT_NTH")) ? strtol(v, NULL, 10) : 1;
	fault.err = (v = getenv("MW_FAULT_ERRNO")) ? atoi(v) : EIO;
	fault.noop = (v = getenv("MW_FAULT_NOOP")) && strcmp(v, "1") == 0;
}

/* Does this call on fd hit the fault? Counts the calls that match. */
static bool fault_hits(const char *call, int fd)
{
	pthread_once(&fault_once, fault_load);
	if (strcmp(fault.call, call) != 0 || fault.path[0] == '\0')
		return false;
	char link[64], target[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	if (!strstr(target, fault.path))
		return false;
	long seq = atomic_fetch_add(&counted, 1) + 1;
	return fault.nth == 0 || seq == fault.nth;
}

/* The real function: looked up once per call site's first use. */
#define REAL(name) \
	static __typeof__(&name) real_##name; \
	if (!real_##name) \
		real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/* A sync call that hits the fault: skipped (noop) or failed. */
static int sync_call(const char *call, int fd, int (*real)(int))
{
	if (!fault_hits(call, fd))
		return real(fd);
	if (fault.noop)
		return 0;
	errno = fault.err;
	return -1;
}

int fsync(int fd)
{
	REAL(fsync);
	return sync_call("fsync", fd, real_fsync);
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	return sync_call("fdatasync", fd, real_fdatasync);
}

/* write and pwrite fail outright (noop would claim bytes never written). */
static ssize_t write_failed(void)
{
	errno = fault.err;
	return -1;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	return fault_hits("write", fd) ? write_failed() : real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t at)
{
	REAL(pwrite);
	return fault_hits("pwrite", fd) ? write_failed() : real_pwrite(fd, buf, n, at);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t at)
{
	REAL(pwrite64);
	return fault_hits("pwrite", fd) ? write_failed() : real_pwrite64(fd, buf, n, at);
}
