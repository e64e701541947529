/* See syscalls.h: what the scanner calls beyond the common list. */
#include "sandbox/syscalls.h"

static const char *const names[] = {
	"memfd_create",                /* a rewritten message, sealed for the queue */
};

const struct syscall_list syscalls_scanner = SYSCALL_LIST(names);
