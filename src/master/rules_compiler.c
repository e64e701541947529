/*
 * See rules_compiler.h. The child keeps the master's privileges (the
 * cache is written by root, never by the unprivileged scanner that parses
 * hostile mail) and no chroot; it ends with one of three exit codes.
 */
#include "master/rules_compiler.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "content/rules.h"
#include "master/child.h"
#include "util/log.h"

enum { COMPILED_NOTHING_NEW = 0, COMPILED_NEW = 10, COMPILE_FAILED = 11 };

static int compile(struct rule_set *rs, const char *state_dir)
{
	char cache[4200], err[256];
	size_t exact, prefilter, pcre, databases, cached;
	snprintf(cache, sizeof(cache), "%s/%s", state_dir, RULES_CACHE_DIR);
	if (!rules_compile_fast(rs, cache, err, sizeof(err)))
		return COMPILE_FAILED;  /* no Hyperscan here: the scanner says so itself */
	rules_fast_report(rs, &exact, &prefilter, &pcre, &databases, &cached);
	return databases > cached ? COMPILED_NEW : COMPILED_NOTHING_NEW;
}

pid_t rules_compiler_start(const struct rule_set *rs, const char *state_dir)
{
	pid_t pid = child_fork_task("rules_compiler");
	if (pid < 0)
		log_event(LOG_ERR, "rules_compiler", "msg", "cannot fork: rules run in PCRE2 alone", NULL);
	if (pid != 0)
		return pid;
	/* The cache is written to a temporary file and renamed: a compile cut
	 * short by a stop leaves no half database. */
	_exit(compile((struct rule_set *)rs, state_dir));  /* our copy of the set (fork) */
}

bool rules_compiler_added(pid_t pid, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == COMPILED_NEW || code == COMPILED_NOTHING_NEW) {
		log_event(LOG_INFO, "rules_compiled", "pid", log_u64((unsigned long long)pid), "new",
			  code == COMPILED_NEW ? "yes" : "no", NULL);
		return code == COMPILED_NEW;
	}
	if (code == COMPILE_FAILED)  /* no Hyperscan on this CPU: PCRE2 it is (the scanner says so too) */
		log_event(LOG_INFO, "rules_compiled", "pid", log_u64((unsigned long long)pid), "new", "no", "hyperscan",
			  "unavailable", NULL);
	else
		log_event(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? LOG_INFO : LOG_ERR, "rules_compiled",
			  "pid", log_u64((unsigned long long)pid), "new", "no", "status", "not finished", NULL);
	return false;
}
