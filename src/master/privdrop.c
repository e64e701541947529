#include "master/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

bool privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_event(LOG_ERR, "privdrop_error", "user", user,
			  "msg", "no such user (scripts/deps.sh creates mailwarden and mailwarden-smtpd)", NULL);
		return false;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

static bool fail(const char *step, const char *arg)
{
	log_event(LOG_ERR, "privdrop_error", "step", step, "arg", arg, "msg", strerror(errno), NULL);
	return false;
}

bool privdrop_apply(const struct privdrop_target *t)
{
	if (t->workdir && chdir(t->workdir) < 0)
		return fail("chdir", t->workdir);
	if (geteuid() != 0)
		return true;  /* started by a normal user: everything runs as that user */

	uid_t uid;
	gid_t gid;
	if (!privdrop_lookup(t->user, &uid, &gid))
		return false;
	if (uid == 0)
		return fail("user", "refusing to run a child as uid 0");
	if (t->chroot_dir) {
		if (chroot(t->chroot_dir) < 0)
			return fail("chroot", t->chroot_dir);
		if (chdir("/") < 0)
			return fail("chdir", "/");
	}
	if (setgroups(0, NULL) < 0)
		return fail("setgroups", t->user);
	if (setresgid(gid, gid, gid) < 0)
		return fail("setresgid", t->user);
	if (setresuid(uid, uid, uid) < 0)
		return fail("setresuid", t->user);
	if (setuid(0) == 0 || geteuid() == 0) {
		errno = EPERM;
		return fail("verify", "root could be regained");
	}
	return true;
}
