/*
 * The last step of a confined child's start-up (SEC-1, issue 15): a
 * seccomp filter that lets the process make only the system calls its
 * work needs, so code that an attacker takes over in smtpd or the scanner
 * cannot open files, start programs, trace or signal other processes, or
 * load kernel modules, whatever the kernel's other checks would allow.
 *
 * Runs in the child, after the privilege drop and after everything that
 * opens files or loads libraries' data (TLS assets, rules, YARA, libmagic,
 * GMime's converters), right before the event loop starts. The filter
 * covers every thread of the process (the worker threads exist already)
 * and every thread started later; anything outside it kills the whole
 * process (SIGSYS), which the master logs and restarts.
 */
#ifndef MW_SANDBOX_SANDBOX_H
#define MW_SANDBOX_SANDBOX_H

#include <stdbool.h>

enum sandbox_profile {
	SANDBOX_SMTPD,
	SANDBOX_SCANNER,
};

/* Install profile's filter, or, with enabled false (security.seccomp:
 * false), log a warning and install nothing. Logs one line with the
 * number of system calls allowed before it installs. false (logged):
 * the filter could not be built or loaded; the child must exit rather
 * than serve without it (fail closed). */
bool sandbox_enter(enum sandbox_profile profile, bool enabled);

#endif
