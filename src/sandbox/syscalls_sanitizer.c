/*
 * See syscalls.h: the AddressSanitizer and UBSan runtimes. Under a
 * sanitizer build the filter stays as strict as ever (kill, same lists)
 * and allows these besides, so the ASan run of the tests exercises the
 * filter too; a plain build allows none of them.
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
	"prctl",                       /* PR_GET_DUMPABLE and the like while reporting */
	"getrusage", "sched_getaffinity",
	"readlink", "readlinkat",      /* the binary's path in a report (opening
				        * /proc/self/maps fails with ENOENT: seccomp.c) */
};
const struct syscall_list syscalls_sanitizer = SYSCALL_LIST(names);
#else
const struct syscall_list syscalls_sanitizer = { NULL, 0 };
#endif
