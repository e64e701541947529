/*
 * smtpd's side of the scanner file reload (see scan/watch.h): the queue
 * sends a read-only descriptor per file (IPC_SCAN_FILE, index/total);
 * when a batch is complete a worker thread builds the new data (a large
 * zone takes a second or so: the event loop must not wait for it), and
 * the loop swaps it in. A batch that arrives while one is being built
 * waits; a newer one replaces it. Runs in smtpd, after the drop.
 */
#ifndef MW_SCAN_RELOAD_H
#define MW_SCAN_RELOAD_H

#include <stdint.h>

struct event_base;
struct config;

void scan_reload_init(struct event_base *base, const struct config *c);
/* One file of a batch; fd is owned by the callee (-1: none). */
void scan_reload_file(uint32_t index, uint32_t total, int fd);

#endif
