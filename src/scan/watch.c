/*
 * See watch.h. scan_watch_changed runs in the master (baseline) and the
 * queue; scan_watch_poll in the queue. stat(2) and open(2) only.
 */
#include "scan/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "ipc/channel.h"
#include "ipc/txn.h"
#include "scan/policy.h"
#include "util/alloc.h"
#include "util/filestamp.h"
#include "util/log.h"

struct scan_watch scan_watch_at_fork;

bool scan_watch_changed(struct scan_watch *w, const struct config *c)
{
	const char *paths[SCAN_FILES_MAX];
	size_t n = scan_config_files(c->scan, paths, SCAN_FILES_MAX);
	bool fresh = w->config != c || w->n != n, changed = false;
	for (size_t i = 0; i < n; i++) {
		struct file_stamp now = file_stamp_take(paths[i]);
		if (!fresh && !file_stamp_same(&now, &w->file[i]))
			changed = true;
		w->file[i] = now;
	}
	w->config = c;
	w->n = n;
	return changed;
}

void scan_watch_poll(struct scan_watch *w, const struct config *c, struct channel *const *channels, size_t n)
{
	if (!c->scan || !scan_watch_changed(w, c))
		return;
	const char *paths[SCAN_FILES_MAX];
	size_t total = scan_config_files(c->scan, paths, SCAN_FILES_MAX);
	log_event(LOG_INFO, "scan_files_changed", "files", log_u64(total), "smtpd", log_u64(n), NULL);
	struct ipc_msg *m = xmalloc(sizeof(*m));
	for (size_t i = 0; i < total; i++) {
		int fd = paths[i] ? open(paths[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) : -1;
		if (paths[i] && fd < 0)
			log_event(c->scan->file_meta[i].optional ? LOG_WARNING : LOG_ERR, "scan_file_error",
				  "file", paths[i], "msg", strerror(errno), NULL);
		ipc_scan_file_encode(m, (uint32_t)i, (uint32_t)total);
		for (size_t k = 0; k < n; k++)
			channel_send(channels[k], m, fd);
		if (fd >= 0)
			close(fd);
	}
	free(m);
}
