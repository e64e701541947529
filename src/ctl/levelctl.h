/*
 * "mailwarden ctl ..." (SCAN-11, issue 15): the gateway's status and the
 * emergency level, through the queue's control socket (queue/control.h,
 * queue/emergency.h, queue/status_report.h), and reload and stop by a
 * signal to the master (ctl/lifecycle.h):
 *
 *   mailwarden ctl [-c FILE] status
 *   mailwarden ctl [-c FILE] reload
 *   mailwarden ctl [-c FILE] stop
 *   mailwarden ctl [-c FILE] level [N|NAME] [--for DURATION] [--rehearse] [--reason TEXT]
 *
 * The level and the duration are checked against the configuration
 * first, so a typo never reaches the gateway. Runs as the administrator
 * (root or the queue user, as the socket requires).
 */
#ifndef MW_CTL_LEVELCTL_H
#define MW_CTL_LEVELCTL_H

#include <stdio.h>

/* argv[0] is "ctl". Returns 0 ok, 1 the gateway refused or could not be
 * reached, 2 usage (an unknown level among it). */
int levelctl_main(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void levelctl_usage(FILE *out);

#endif
