/*
 * YARA rules that take effect at once (issue 12): the master stamps
 * scan.yara.rules (the file, or the directory and each *.yar / *.yara in
 * it; util/filestamp.h) once a second. On a change that has stayed put
 * for one check (a file saved in place is loaded whole) it compiles them
 * itself, as check-config does: rules that compile go to a new scanner
 * (which compiles them again before its chroot); rules that do not are
 * logged at error with file and line, and the running scanner keeps the
 * rules it has. The next change is tried again.
 */
#ifndef MW_MASTER_YARA_WATCH_H
#define MW_MASTER_YARA_WATCH_H

#include <stdbool.h>

struct config;
struct yara_watch;

/* The rules as the first scanner will read them; NULL when c has no
 * scan.yara. */
struct yara_watch *yara_watch_new(const struct config *c);
void yara_watch_free(struct yara_watch *w);

/* Once a second: true when the rules changed and compile (the caller
 * starts a new scanner). */
bool yara_watch_poll(struct yara_watch *w, const struct config *c);

#endif
