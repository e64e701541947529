/*
 * See strip_commit.h.
 */
#include "queue/strip_commit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/spool.h"
#include "util/alloc.h"
#include "util/log.h"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A copy of e (recipients and DSN fields included) for a new spool file;
 * false if it does not decode again (never, for an envelope we made). */
static bool envelope_copy(struct envelope *e, struct envelope *copy)
{
	size_t len;
	unsigned char *rec = envelope_encode(e, &len);
	memset(copy, 0, sizeof(*copy));
	bool ok = envelope_decode(rec, len, copy);
	free(rec);
	if (!ok)
		return false;
	copy->verdict = dup_or_null(e->verdict);
	copy->add_headers = dup_or_null(e->add_headers);
	copy->subject_prefix = dup_or_null(e->subject_prefix);
	return true;
}

/* Step 1: tmp/<new id> holding the stripped message; -1 on failure. */
static int stripped_file(struct spool *sp, struct envelope *orig, int rewrite_fd, uint64_t rewrite_size,
			 struct envelope *d)
{
	if (!envelope_copy(orig, d))
		return -1;
	int fd = spool_create(sp, d);
	if (fd < 0)
		return -1;
	if (spool_replace_message(sp, d, fd, rewrite_fd, rewrite_size) < 0) {
		close(fd);
		return -1;
	}
	d->body_end = d->body_offset + (off_t)rewrite_size;
	return fd;
}

int strip_commit_run(struct spool *sp, struct envelope *orig, int fd, uint64_t size, int rewrite_fd,
		     uint64_t rewrite_size, struct strip_commit *out)
{
	out->fd = stripped_file(sp, orig, rewrite_fd, rewrite_size, &out->delivered);
	if (out->fd < 0)
		log_event(LOG_ERR, "strip_commit_failed", "queue_id", orig->id, "msg",
			  "the stripped message could not be spooled: only the original is kept, in quarantine", NULL);
	if (spool_commit_quarantine(sp, orig, fd, size) < 0) {
		if (out->fd >= 0) {
			close(out->fd);
			spool_abort(sp, out->delivered.id);
		}
		out->fd = -1;
		return -1;
	}
	if (out->fd >= 0 && spool_commit(sp, &out->delivered, out->fd, rewrite_size) < 0) {
		log_event(LOG_ERR, "strip_commit_failed", "queue_id", orig->id, "stripped_id", out->delivered.id, "msg",
			  "the stripped message could not be committed: only the original is kept, in quarantine", NULL);
		close(out->fd);
		out->fd = -1;
	}
	return 0;
}
