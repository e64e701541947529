/*
 * See sandbox.h. Builds the filter with libseccomp from the lists in
 * syscalls.h plus three calls whose arguments are checked, and loads it
 * for every thread of the process at once (TSYNC).
 */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "sandbox/syscalls.h"
#include "sandbox/trip.h"
#include "util/log.h"

#define SYSCALLS_MAX 512   /* more than any list together holds */

struct filter {
	scmp_filter_ctx ctx;
	int seen[SYSCALLS_MAX];   /* numbers added, so the count has no doubles */
	size_t n;
};

static bool seen(const struct filter *f, int nr)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->seen[i] == nr)
			return true;
	return false;
}

/* Allow nr under the rule (no conditions, or one); counts it once. */
static bool allow(struct filter *f, int nr, unsigned n_cond, const struct scmp_arg_cmp *cond)
{
	if (seccomp_rule_add_array(f->ctx, SCMP_ACT_ALLOW, nr, n_cond, cond) < 0)
		return false;
	if (!seen(f, nr)) {
		if (f->n == SYSCALLS_MAX)
			return false;
		f->seen[f->n++] = nr;
	}
	return true;
}

static bool allow_list(struct filter *f, const struct syscall_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		int nr = seccomp_syscall_resolve_name(l->names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;   /* not on this architecture */
		if (!allow(f, nr, 0, NULL)) {
			log_event(LOG_ERR, "seccomp_error", "syscall", l->names[i], "msg", "cannot add to the filter", NULL);
			return false;
		}
	}
	return true;
}

/* Threads, never processes: clone only with CLONE_THREAD (pthread_create;
 * a fork or a new namespace is killed). clone3 carries its flags in
 * memory a filter cannot read: it fails with ENOSYS, and glibc then uses
 * clone. On x86_64 and arm64 clone's flags are its first argument. */
static bool allow_threads(struct filter *f)
{
	struct scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	return allow(f, SCMP_SYS(clone), 1, &thread) &&
	       seccomp_rule_add(f->ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) == 0;
}

/* Sockets of the internet and of the local system only (DNS, callouts,
 * clamd, syslog): no netlink, packet or other families. */
static bool allow_sockets(struct filter *f)
{
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct scmp_arg_cmp family = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)families[i]);
		if (!allow(f, SCMP_SYS(socket), 1, &family))
			return false;
	}
	return true;
}

/* Memory, never executable: code an attacker wrote cannot be run (the
 * systemd unit's MemoryDenyWriteExecute=, for smtpd and the scanner
 * always). A request for it fails with EPERM rather than killing: PCRE2's
 * JIT then falls back to its interpreter. */
static bool allow_memory(struct filter *f)
{
	static const int calls[] = { SCMP_SYS(mmap), SCMP_SYS(mprotect) };
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct scmp_arg_cmp exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC);
		struct scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
		if (!allow(f, calls[i], 1, &no_exec) ||
		    seccomp_rule_add_array(f->ctx, SCMP_ACT_ERRNO(EPERM), calls[i], 1, &exec) < 0)
			return false;
	}
	return true;
}

/* libevent asks how much a socket has to read (FIONREAD); any other
 * request fails as on a descriptor that does not know it. */
static bool allow_ioctl(struct filter *f)
{
	struct scmp_arg_cmp fionread = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, FIONREAD);
	struct scmp_arg_cmp other = { .arg = 1, .op = SCMP_CMP_NE, .datum_a = FIONREAD, .datum_b = 0 };
	return allow(f, SCMP_SYS(ioctl), 1, &fionread) &&
	       seccomp_rule_add_array(f->ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1, &other) == 0;
}

/* Opening a file by name finds nothing, as in the empty chroot, and so
 * also when started without root (no chroot): what the process needs was
 * opened before, or comes as a descriptor from the master. Libraries do
 * try now and then (glibc's localtime() reads /etc/localtime, resolvers
 * /etc/resolv.conf) and must see the same ENOENT the chroot gives, not a
 * kill. */
static bool refuse_opens(struct filter *f)
{
	static const char *const calls[] = { "open", "openat", "openat2", "creat" };
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int nr = seccomp_syscall_resolve_name(calls[i]);
		if (nr != __NR_SCMP_ERROR && seccomp_rule_add(f->ctx, SCMP_ACT_ERRNO(ENOENT), nr, 0) < 0)
			return false;
	}
	return true;
}

static const struct syscall_list *profile_list(enum sandbox_profile p)
{
	return p == SANDBOX_SMTPD ? &syscalls_smtpd : &syscalls_scanner;
}

static bool build(struct filter *f, enum sandbox_profile p)
{
	return allow_list(f, &syscalls_common) && allow_list(f, profile_list(p)) &&
	       allow_list(f, &syscalls_sanitizer) && allow_threads(f) && allow_sockets(f) &&
	       allow_memory(f) && allow_ioctl(f) && refuse_opens(f) &&
	       /* every thread, now and later; fails if one cannot take it */
	       seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_TSYNC, 1) == 0;
}

static bool fail(struct filter *f, const char *step, int rc)
{
	log_event(LOG_ERR, "seccomp_error", "step", step, "msg", rc < 0 ? strerror(-rc) : "cannot build the filter",
		  "hint", "security.seccomp: false runs without the filter (README, Hardening: seccomp)", NULL);
	seccomp_release(f->ctx);
	return false;
}

bool sandbox_enter(enum sandbox_profile profile, bool enabled)
{
	if (!enabled) {
		log_event(LOG_WARNING, "seccomp_off", "msg",
			  "security.seccomp is false: this process runs without a system call filter", NULL);
		return true;
	}
	sandbox_trip_arm();
	/* Anything not allowed ends the whole process, not one thread: a
	 * half-dead process would serve on with a worker missing. */
	struct filter f = { .ctx = seccomp_init(SCMP_ACT_KILL_PROCESS) };
	if (!f.ctx)
		return fail(&f, "init", 0);
	if (!build(&f, profile))
		return fail(&f, "build", 0);
	log_event(LOG_INFO, "seccomp_on", "syscalls", log_u64(f.n), "action", "kill", NULL);
	int rc = seccomp_load(f.ctx);
	if (rc < 0)
		return fail(&f, "load", rc);
	seccomp_release(f.ctx);
	return true;
}
