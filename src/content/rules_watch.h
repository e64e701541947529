/*
 * Rule files that take effect at once (issue 11; SCAN-5: "rules that an
 * administrator edits take effect without a restart", BSI M 5.109).
 *
 * The master holds the compiled rule set of scan.rules and checks once a
 * second whether any file the set was read from changed: a rule file, a
 * file it includes, a *.cf of a configured directory, or the directory
 * itself (a file added, removed or renamed), by inode, size and
 * modification time (util/filestamp.h). On a change that has stayed
 * put for one poll (an editor saving in place truncates before it writes)
 * it loads the set again; a set that loads and whose changed files have no broken line
 * takes over, and the master starts a new scanner with it (the scanner
 * inherits the compiled set through fork: it never reads a rule file,
 * before or after its chroot). Anything else keeps the running set and is
 * logged at error: a rule file that cannot be read, an include that went
 * away, a regex that does not compile. The next change is tried again.
 *
 * Runs in the master, before any privilege drop (root, or the caller);
 * blocks for the time a load takes (~0.1 s for Debian's spamassassin set).
 */
#ifndef MW_CONTENT_RULES_WATCH_H
#define MW_CONTENT_RULES_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct rule_set;
struct rules_watch;

/* Load c's scan.rules (none configured: a watch over nothing). NULL, with
 * the reason in err, when a file cannot be read. The watch keeps a
 * pointer to c, which must outlive it. */
struct rules_watch *rules_watch_new(const struct config *c, char *err, size_t errlen);
void rules_watch_free(struct rules_watch *w);

/* The set in force, NULL when scan.rules names nothing. */
const struct rule_set *rules_watch_set(const struct rules_watch *w);

/* Once a second: true when a file changed and the new set took over
 * (logged event=rules_reloaded; the old set is freed). False when nothing
 * changed or the new set was refused (event=rules_reload_failed). */
bool rules_watch_poll(struct rules_watch *w);

#endif
