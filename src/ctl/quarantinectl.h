/*
 * `mailwarden quarantine list|show|release|delete|digest` (SCAN-8, issue
 * 11): the administrator's view of the quarantine. list, release, delete
 * and digest go to the running queue over its control socket
 * (queue/control.h, quarantine/keeper.h), which owns the files and their
 * index and records who asked (the peer's Unix user, and --by NAME);
 * show reads the held file directly (root or the queue user), so it
 * works with the gateway stopped too.
 */
#ifndef MW_CTL_QUARANTINECTL_H
#define MW_CTL_QUARANTINECTL_H

#include <stdio.h>

/* argv[0] is "quarantine". Returns the exit status: 0 ok, 1 refused or
 * failed, 2 usage. */
int quarantine_command(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void quarantine_usage(FILE *out);

#endif
