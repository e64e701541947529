/*
 * The master process: loads and checks the configuration, prepares the
 * state directory, binds the listeners, and runs generations of children
 * (one queue process, smtpd_processes smtpd processes, connected by
 * socketpairs). A child that dies, or a SIGHUP with a valid new
 * configuration, ends the generation gracefully and starts the next one:
 * smtpd first (sessions get shutdown_grace to finish), then the queue.
 * SIGTERM/SIGINT stop everything and exit 0.
 */
#ifndef MW_MASTER_MASTER_H
#define MW_MASTER_MASTER_H

#include <stdbool.h>

int master_run(const char *config_path, bool foreground);

#endif
