#include "master/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "master/privdrop.h"
#include "policy/route.h"
#include "util/log.h"

static bool fail(const char *what, const char *path)
{
	log_event(LOG_ERR, "statedir_error", "op", what, "path", path, "msg", strerror(errno), NULL);
	return false;
}

/* mkdir -p: each missing component is created with mode. */
static bool make_dirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return fail("mkdir", path);
	}
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return fail("mkdir", buf);
			*p = saved;
			if (saved == '\0')
				return true;
		}
	}
}

static bool owned_dir(const char *path, mode_t mode, bool for_queue, uid_t uid, gid_t gid)
{
	/* Parents 0755 so the queue user can pass through; the leaf gets mode. */
	if (!make_dirs(path, 0755))
		return false;
	if (for_queue && geteuid() == 0 && chown(path, uid, gid) < 0)
		return fail("chown", path);
	if (chmod(path, mode) < 0)
		return fail("chmod", path);
	return true;
}

/* The known partners' store (SCAN-11) exists before any child starts:
 * each smtpd opens it before its chroot, and the queue, which fills it,
 * must own it. An empty file is a valid SQLite database. */
static bool partners_file(const char *path, uid_t uid, gid_t gid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail("open", path);
	bool ok = geteuid() != 0 || fchown(fd, uid, gid) == 0;
	close(fd);
	return ok || fail("chown", path);
}

bool statedir_prepare(const struct config *c)
{
	uid_t uid = 0;
	gid_t gid = 0;
	if (geteuid() == 0 && (!privdrop_lookup(c->user, &uid, &gid) ||
			       !privdrop_lookup(c->smtpd_user, &(uid_t){ 0 }, &(gid_t){ 0 })))
		return false;
	char path[PATH_MAX];
	if (!owned_dir(c->state_dir, 0755, false, uid, gid))
		return false;
	snprintf(path, sizeof(path), "%s/spool", c->state_dir);
	if (!owned_dir(path, 0700, true, uid, gid))
		return false;
	/* TLS-8: the queue's MTA-STS policy cache (state/mtasts_cache.h) */
	snprintf(path, sizeof(path), "%s/mta-sts", c->state_dir);
	if (!owned_dir(path, 0700, true, uid, gid))
		return false;
	/* TLS-8: the queue's TLS-RPT counts (state/tlsrpt_store.h) */
	snprintf(path, sizeof(path), "%s/tlsrpt", c->state_dir);
	if (!owned_dir(path, 0700, true, uid, gid))
		return false;
	if (!partners_file(c->emergency.partners.file, uid, gid))
		return false;
	snprintf(path, sizeof(path), "%s/empty", c->state_dir);
	if (!owned_dir(path, 0755, false, uid, gid))
		return false;
	for (size_t i = 0; i < c->n_routes; i++) {
		const struct route *r = &c->routes[i];
		if (r->kind != ROUTE_MAILDIR)
			continue;
		if (r->path[0] == '/')
			snprintf(path, sizeof(path), "%s", r->path);
		else
			snprintf(path, sizeof(path), "%s/%s", c->state_dir, r->path);
		if (!owned_dir(path, 0700, true, uid, gid))
			return false;
	}
	return true;
}
