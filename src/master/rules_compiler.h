/*
 * The rules compiler (issue 11): a short-lived process the master forks
 * to compile the rule set's Hyperscan databases into the cache under
 * state_dir. Compiling Debian's rules from nothing takes some 15 s of CPU;
 * done in the scanner it kept a new scanner from serving (and from
 * hearing a stop) that long. The scanner reads the cache only
 * (rules_load_fast); when the compiler has added databases the master
 * starts a scanner that finds them, while the running one keeps serving
 * with what it has (PCRE2 for the rest: same results, more CPU).
 */
#ifndef MW_MASTER_RULES_COMPILER_H
#define MW_MASTER_RULES_COMPILER_H

#include <stdbool.h>
#include <sys/types.h>

struct rule_set;

/* Fork the compiler for rs (the master's; the child has its own copy).
 * Its pid, or -1 (logged) if it could not be started. */
pid_t rules_compiler_start(const struct rule_set *rs, const char *state_dir);
/* From the compiler's wait status: did it write databases the cache did
 * not have (so a scanner started now would find more)? Logs the outcome. */
bool rules_compiler_added(pid_t pid, int status);

#endif
