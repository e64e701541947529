/* See syscalls.h: what smtpd calls beyond the common list. */
#include "sandbox/syscalls.h"

static const char *const names[] = {
	"accept4",                     /* SMTP sessions on the listeners it was given */
};

const struct syscall_list syscalls_smtpd = SYSCALL_LIST(names);
