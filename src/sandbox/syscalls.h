/*
 * The allowlists of the seccomp filters (sandbox.h), as system call names:
 * libseccomp turns them into numbers for the architecture at hand and a
 * name that architecture lacks (open on arm64) is skipped. The lists were
 * found by tracing the system tests of smtpd and the scanner (TLS, AUTH,
 * DNS, callouts, clamd, rules, YARA, archives, reloads, stops) with
 * strace; what a list holds and why is said beside each name.
 *
 * Not in any list, because their arguments are checked (seccomp.c):
 * clone and clone3 (threads only), socket (three families), mmap and
 * mprotect (never executable), ioctl (FIONREAD), and the calls that open
 * files (they fail with ENOENT, as in the empty chroot).
 */
#ifndef MW_SANDBOX_SYSCALLS_H
#define MW_SANDBOX_SYSCALLS_H

#include <stddef.h>

struct syscall_list {
	const char *const *names;
	size_t n;
};

#define SYSCALL_LIST(array) { (array), sizeof(array) / sizeof((array)[0]) }

/* Every confined child: libc's memory and threads, the libevent loop,
 * the IPC channels (descriptor passing), logging, exit. */
extern const struct syscall_list syscalls_common;
/* smtpd: SMTP sessions on accepted sockets, TLS, DNS, callouts. */
extern const struct syscall_list syscalls_smtpd;
/* The scanner: content checks, clamd, DNS for DKIM and DMARC. */
extern const struct syscall_list syscalls_scanner;
/* What the AddressSanitizer and UBSan runtimes call besides (reports,
 * shadow memory); empty in a build without sanitizers. */
extern const struct syscall_list syscalls_sanitizer;

#endif
