/*
 * The only code that changes uid, gid or root directory (SEC-1).
 * Runs in a freshly forked child, before it reads a byte from anyone.
 */
#ifndef MW_MASTER_PRIVDROP_H
#define MW_MASTER_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

struct privdrop_target {
	const char *user;        /* switched to only when running as root */
	const char *workdir;     /* chdir here (before chroot, if any) */
	const char *chroot_dir;  /* NULL: no chroot */
};

/* Look up a user; false with a logged error if it does not exist. */
bool privdrop_lookup(const char *user, uid_t *uid, gid_t *gid);

/* chdir, then (as root only) chroot, setgroups, setgid, setuid, and a check
 * that root cannot be regained. Returns false on any failure: the child
 * must exit rather than run with privileges it should not have. */
bool privdrop_apply(const struct privdrop_target *t);

#endif
