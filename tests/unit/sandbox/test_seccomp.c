/* The seccomp filters (sandbox/sandbox.h, SEC-1, issue 15): each case
 * forks a child that loads a profile and then tries one thing; the child
 * says by its exit status (or its death by SIGSYS) what the filter did.
 * The filter is process-wide and cannot be undone, so it never runs in
 * the test process itself. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "util/log.h"

#define PASSED 0
#define WRONG 70      /* the call did what the filter should have stopped */
#define NO_FILTER 71  /* sandbox_enter failed */

/* Run try() in a child after sandbox_enter(profile, enabled); its wait status. */
static int in_child(enum sandbox_profile profile, bool enabled, int (*try)(void))
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		log_init("test", LOG_TARGET_STDERR, LOG_FORMAT_KV, LOG_ERR);
		_exit(sandbox_enter(profile, enabled) ? try() : NO_FILTER);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static int under_filter(enum sandbox_profile profile, int (*try)(void))
{
	return in_child(profile, true, try);
}

static void assert_passed(int status)
{
	cr_assert(WIFEXITED(status), "the child died by signal %d", WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), PASSED);
}

static void assert_killed(int status)
{
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "status %#x: not killed by SIGSYS", status);
}

static int seccomp_mode(void)
{
	char line[256];
	int mode = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "Seccomp: %d", &mode);
	if (f)
		fclose(f);
	return mode;
}

static int try_open(void)
{
	/* As in the empty chroot: nothing is found, nothing is killed. */
	int fd = open("/etc/passwd", O_RDONLY);
	return fd < 0 && errno == ENOENT ? PASSED : WRONG;
}

static int try_exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool refused = p == MAP_FAILED && errno == EPERM;
	bool rw_ok = q != MAP_FAILED;
	bool no_exec_later = rw_ok && mprotect(q, 4096, PROT_READ | PROT_EXEC) < 0 && errno == EPERM;
	return refused && rw_ok && no_exec_later ? PASSED : WRONG;
}

static int try_ioctl(void)
{
	int sv[2], pending = -1;
	struct termios t;
	if (pipe2(sv, O_CLOEXEC) < 0 || write(sv[1], "abc", 3) != 3)
		return WRONG;
	bool fionread = ioctl(sv[0], FIONREAD, &pending) == 0 && pending == 3;
	bool other = ioctl(sv[0], TCGETS, &t) < 0 && errno == ENOTTY;
	return fionread && other ? PASSED : WRONG;
}

static void *thread_main(void *arg)
{
	return arg;
}

static int try_thread(void)
{
	pthread_t t;
	void *ret = NULL;
	if (pthread_create(&t, NULL, thread_main, (void *)"x") != 0 || pthread_join(t, &ret) != 0)
		return WRONG;
	return ret && seccomp_mode() == -1 ? PASSED : WRONG;  /* /proc cannot be opened either */
}

static int try_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	return WRONG;
}

static int try_netlink(void)
{
	socket(AF_NETLINK, SOCK_RAW, 0);
	return WRONG;
}

static int try_exec(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return WRONG;
}

static int try_kill(void)
{
	kill(getppid(), 0);
	return WRONG;
}

Test(seccomp, opening_a_file_finds_nothing)
{
	assert_passed(under_filter(SANDBOX_SMTPD, try_open));
	assert_passed(under_filter(SANDBOX_SCANNER, try_open));
}

Test(seccomp, executable_memory_is_refused)
{
	assert_passed(under_filter(SANDBOX_SCANNER, try_exec_memory));
}

Test(seccomp, ioctl_answers_fionread_only)
{
	assert_passed(under_filter(SANDBOX_SMTPD, try_ioctl));
}

Test(seccomp, threads_may_start)
{
	assert_passed(under_filter(SANDBOX_SMTPD, try_thread));
	assert_passed(under_filter(SANDBOX_SCANNER, try_thread));
}

Test(seccomp, fork_exec_kill_and_netlink_kill_the_process)
{
	int (*tries[])(void) = { try_fork, try_exec, try_kill, try_netlink };
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		assert_killed(under_filter(SANDBOX_SMTPD, tries[i]));
		assert_killed(under_filter(SANDBOX_SCANNER, tries[i]));
	}
}

static int try_disabled(void)
{
	return seccomp_mode() == 0 ? PASSED : WRONG;
}

Test(seccomp, disabled_loads_no_filter)
{
	assert_passed(in_child(SANDBOX_SMTPD, false, try_disabled));
}

#if defined(__SANITIZE_ADDRESS__)
#include <stdlib.h>

/* A sanitizer build must still report under the filter: its runtime's
 * calls while reporting (src/sandbox/syscalls_sanitizer.c) are allowed,
 * so the child writes the whole report and ends with ASan's exit status
 * (1), not by SIGSYS. The report goes into a pipe, not to the test's
 * output, where ctest would take it for a real one. */
static int try_heap_overflow(void)
{
	char *volatile p = malloc(8);
	volatile char c = p[8];
	free(p);
	return c ? WRONG : WRONG;
}

Test(seccomp, an_asan_report_is_written_not_killed)
{
	int out[2];
	cr_assert_eq(pipe(out), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(out[1], STDERR_FILENO);
		log_init("test", LOG_TARGET_STDERR, LOG_FORMAT_KV, LOG_ERR);
		_exit(sandbox_enter(SANDBOX_SCANNER, true) ? try_heap_overflow() : NO_FILTER);
	}
	close(out[1]);
	static char report[1 << 16];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(report) - 1 && (n = read(out[0], report + len, sizeof(report) - 1 - len)) > 0)
		len += (size_t)n;
	close(out[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "status %#x: the report was cut short (signal %d)", status, WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), 1);
	cr_assert(strstr(report, "heap-buffer-overflow") && strstr(report, "ABORTING"), "no whole report");
}
#endif
