/*
 * See watch.h. Runs in the master.
 */
#include "scan/watch.h"

#include <string.h>

#include "config/config.h"

bool scan_watch_changed(struct scan_watch *w, const struct config *c)
{
	const char *paths[SCAN_WATCH_MAX];
	size_t n = scan_config_files(c->scan, paths, SCAN_WATCH_MAX);
	bool fresh = w->config != c, changed = false;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		bool exists = stat(paths[i], &st) == 0;
		if (!fresh && (exists != w->file[i].exists ||
			       (exists && (st.st_dev != w->file[i].dev || st.st_ino != w->file[i].ino ||
					   st.st_size != w->file[i].size ||
					   st.st_mtim.tv_sec != w->file[i].mtime.tv_sec ||
					   st.st_mtim.tv_nsec != w->file[i].mtime.tv_nsec))))
			changed = true;
		w->file[i].exists = exists;
		if (exists) {
			w->file[i].dev = st.st_dev;
			w->file[i].ino = st.st_ino;
			w->file[i].size = st.st_size;
			w->file[i].mtime = st.st_mtim;
		}
	}
	w->config = c;
	w->n = n;
	return changed;
}
