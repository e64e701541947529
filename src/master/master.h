/*
 * The master process: loads and checks the configuration, prepares the
 * state directory, binds the listeners, and starts the children from a
 * table of child kinds (one queue, smtpd_processes smtpd), each with a
 * control channel to the master; it hands every queue peer (smtpd) and
 * the queue the two ends of a socketpair over their control channels.
 * A child that dies is restarted alone, with a growing back-off, and
 * wired again to the running processes. SIGHUP with a valid new
 * configuration tells the queue (which swaps its snapshot without a
 * restart) and replaces the smtpds (the old ones get shutdown_grace).
 * SIGTERM/SIGINT stop everything, the queue last, and exit 0.
 */
#ifndef MW_MASTER_MASTER_H
#define MW_MASTER_MASTER_H

#include <stdbool.h>

int master_run(const char *config_path, bool foreground);

#endif
