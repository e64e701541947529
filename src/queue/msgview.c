/*
 * See msgview.h. Runs in the queue process.
 */
#include "queue/msgview.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/memfd.h"

/* Where a subject prefix is looked for: a Subject header further down
 * than this is left as it is (the header section of real mail is far
 * smaller; the bound keeps the work per delivery small). */
#define SUBJECT_SCAN_MAX (64u * 1024)

long msgview_find_subject(const char *msg, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		const char *lf = memchr(msg + pos, '\n', len - pos);
		size_t line = lf ? (size_t)(lf - (msg + pos)) + 1 : len - pos;
		if (line <= 2 && (line == 1 || msg[pos] == '\r'))
			return -1;  /* the empty line: the body begins */
		if (line >= 8 && strncasecmp(msg + pos, "Subject:", 8) == 0)
			return (long)pos;
		if (!lf)
			return -1;
		pos += line;
	}
	return -1;
}

static void append(struct msgview *v, const char *p, size_t n)
{
	v->prefix = xreallocarray(v->prefix, v->prefix_len + n + 1, 1);
	memcpy(v->prefix + v->prefix_len, p, n);
	v->prefix_len += n;
	v->prefix[v->prefix_len] = '\0';
}

/* "Subject: PREFIX rest": the message up to its Subject header goes into
 * the prefix, the file range resumes after "Subject:" and one space. */
static bool apply_subject_prefix(struct msgview *v, int fd, const struct envelope *e)
{
	off_t avail = e->body_end - e->body_offset;
	size_t n = avail < (off_t)SUBJECT_SCAN_MAX ? (size_t)avail : SUBJECT_SCAN_MAX;
	char *head = xmalloc(n + 1);
	ssize_t got = n ? pread(fd, head, n, e->body_offset) : 0;
	if (got != (ssize_t)n) {
		free(head);
		return false;
	}
	long at = msgview_find_subject(head, n);
	if (at >= 0) {
		size_t skip = (size_t)at + 8;
		if (skip < n && head[skip] == ' ')
			skip++;
		append(v, head, (size_t)at);
		append(v, "Subject: ", 9);
		append(v, e->subject_prefix, strlen(e->subject_prefix));
		append(v, " ", 1);
		v->from = e->body_offset + (off_t)skip;
	}
	free(head);
	return true;
}

bool msgview_open(struct msgview *v, int fd, const struct envelope *e)
{
	memset(v, 0, sizeof(*v));
	v->from = e->body_offset;
	v->end = e->body_end;
	if (e->add_headers)
		append(v, e->add_headers, strlen(e->add_headers));
	if (e->subject_prefix && e->subject_prefix[0] && !apply_subject_prefix(v, fd, e)) {
		msgview_close(v);
		return false;
	}
	return true;
}

void msgview_close(struct msgview *v)
{
	free(v->prefix);
	memset(v, 0, sizeof(*v));
}

unsigned long long msgview_size(const struct msgview *v)
{
	return (unsigned long long)v->prefix_len + (unsigned long long)(v->end - v->from);
}

int msgview_sealed_copy(int fd, off_t from, off_t end)
{
	int mfd = memfd_create("mailwarden-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -1;
	off_t pos = from;
	while (pos < end) {
		ssize_t n = sendfile(mfd, fd, &pos, (size_t)(end - pos));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(mfd);
			return -1;
		}
	}
	if (!memfd_seal(mfd)) {
		close(mfd);
		return -1;
	}
	return mfd;
}
