/* See syscalls.h: what every confined child calls once it serves. */
#include "sandbox/syscalls.h"

static const char *const names[] = {
	/* descriptors it holds: sockets, pipes, IPC channels, a database */
	"read", "readv", "write", "writev", "close", "fcntl", "dup",
	"pread64", "pwrite64",         /* SQLite: smtpd's greylist, the scanner's Bayes */
	"newfstatat", "fstat", "lseek",
	"sendmsg", "recvmsg",          /* IPC messages, descriptor passing */
	"sendto", "recvfrom",          /* DNS over UDP; send(), recv(); syslog(3) */
	"connect", "getsockopt", "setsockopt", /* DNS (c-ares, libevent's evdns), clamd, callouts */
	/* the event loop */
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"poll", "ppoll", "pipe2",
	/* memory (mmap, mprotect: seccomp.c) */
	"brk", "munmap", "mremap", "madvise",
	/* threads (clone: seccomp.c) and their locks */
	"futex", "set_robust_list", "rseq", "sched_yield", "exit",
	/* time (usually the vDSO, a system call where it is missing) */
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	/* signals: the loop's SIGTERM, YARA's SIGSEGV guard, raise(), abort() */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "tgkill", "getpid", "gettid",
	/* OpenSSL, hash seeds; gethostname() */
	"getrandom", "uname",
	"exit_group",
};

const struct syscall_list syscalls_common = SYSCALL_LIST(names);
