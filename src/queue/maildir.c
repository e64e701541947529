#include "queue/maildir.h"
#include "queue/msgview.h"

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

/* CRLF -> LF (maildir files use Unix line ends). A CR at the very end of
 * a block is dropped: the message holds CRLF pairs only (smtpd refused
 * bare CR), so an LF follows it in the next block. */
static int write_lf(int out, const char *buf, size_t n)
{
	char conv[65536];
	while (n > 0) {
		size_t take = n < sizeof(conv) ? n : sizeof(conv), o = 0;
		for (size_t i = 0; i < take; i++)
			if (buf[i] != '\r')
				conv[o++] = buf[i];
		if (write_all(out, conv, o) < 0)
			return -1;
		buf += take;
		n -= take;
	}
	return 0;
}

/* The view's prefix, then its range of the spool file. */
static int copy_message(int out, int in, const struct msgview *v)
{
	char buf[65536];
	if (write_lf(out, v->prefix ? v->prefix : "", v->prefix_len) < 0)
		return -1;
	for (off_t pos = v->from; pos < v->end;) {
		size_t want = v->end - pos < (off_t)sizeof(buf) ? (size_t)(v->end - pos) : sizeof(buf);
		ssize_t n = pread(in, buf, want, pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (write_lf(out, buf, (size_t)n) < 0)
			return -1;
		pos += n;
	}
	return 0;
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
		    size_t n_rcpts, int body_fd, const struct msgview *view, char *why, size_t why_cap)
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
		rc = copy_message(fd, body_fd, view);
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
