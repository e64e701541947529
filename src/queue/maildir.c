#include "queue/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy the spool message, CRLF -> LF (maildir files use Unix line ends). */
static int copy_body(int out, int in, off_t pos)
{
	char buf[65536], conv[65536];
	for (;;) {
		ssize_t n = pread(in, buf, sizeof(buf), pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		size_t o = 0;
		for (ssize_t i = 0; i < n; i++)
			if (!(buf[i] == '\r' && (i + 1 < n ? buf[i + 1] == '\n' : 1)))
				conv[o++] = buf[i];
		/* A CR at the very end of a block is dropped only if an LF follows it:
		 * the spool holds CRLF pairs only, so that is always the case. */
		if (write_all(out, conv, o) < 0)
			return -1;
		pos += n;
	}
}

static int ensure_dirs(const char *dir)
{
	char p[PATH_MAX];
	const char *subs[] = { "", "/tmp", "/new", "/cur" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", dir, subs[i]);
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

int maildir_deliver(const char *dir, const char *queue_id, const char *sender, char *const *rcpts,
		    size_t n_rcpts, int body_fd, off_t body_offset, char *why, size_t why_cap)
{
	static unsigned counter;
	char name[128], tmp[PATH_MAX], new[PATH_MAX], host[64] = "localhost";
	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, "/:")] = '\0';
	snprintf(name, sizeof(name), "%lld.M%sP%ldQ%u.%s", (long long)time(NULL), queue_id,
		 (long)getpid(), ++counter, host);
	if (ensure_dirs(dir) < 0) {
		snprintf(why, why_cap, "maildir %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name);
	snprintf(new, sizeof(new), "%s/new/%s", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, why_cap, "maildir %s: %s", tmp, strerror(errno));
		return -1;
	}
	char head[1024];
	int rc = 0;
	snprintf(head, sizeof(head), "Return-Path: <%s>\n", sender);
	rc |= write_all(fd, head, strlen(head));
	for (size_t i = 0; i < n_rcpts && rc == 0; i++) {
		snprintf(head, sizeof(head), "Delivered-To: %s\n", rcpts[i]);
		rc |= write_all(fd, head, strlen(head));
	}
	if (rc == 0)
		rc = copy_body(fd, body_fd, body_offset);
	if (rc == 0)
		rc = fsync(fd);
	close(fd);
	if (rc == 0)
		rc = rename(tmp, new);
	if (rc == 0) {
		char newdir[PATH_MAX];
		snprintf(newdir, sizeof(newdir), "%s/new", dir);
		int dfd = open(newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = dfd < 0 ? -1 : fsync(dfd);
		if (dfd >= 0)
			close(dfd);
	}
	if (rc != 0) {
		snprintf(why, why_cap, "maildir %s: %s", dir, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
