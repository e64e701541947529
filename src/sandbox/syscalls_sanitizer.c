/*
 * See syscalls.h: the AddressSanitizer and UBSan runtimes. Under a
 * sanitizer build the filter stays as strict as ever (kill, same lists)
 * and allows these besides, so the ASan run of the tests exercises the
 * filter too; a plain build allows none of them. Found by running the
 * unit tests (tests/unit/sandbox) and the system tests under ASan with
 * an empty list: a report itself (written, then exit status 1) needs
 * nothing more; opening /proc/self/maps fails with ENOENT (seccomp.c).
 * __SANITIZE_ADDRESS__ is GCC's mark, __has_feature clang's.
 */
#include "sandbox/syscalls.h"

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define MW_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MW_SANITIZED 1
#endif
#endif

#ifdef MW_SANITIZED
static const char *const names[] = {
	"sigaltstack",                 /* the alternate stack of its SEGV handler, per thread */
	"sched_getaffinity",           /* when a thread starts */
};
const struct syscall_list syscalls_sanitizer = SYSCALL_LIST(names);
#else
const struct syscall_list syscalls_sanitizer = { NULL, 0 };
#endif
