/*
 * "mailwarden tlsrpt ..." (TLS-8, RFC 8460): the TLS-RPT counts and
 * reports, through the queue's control socket (queue/control.h,
 * queue/tlsrpt.h):
 *
 *   mailwarden tlsrpt [-c FILE] show [--day YYYY-MM-DD] [DOMAIN]
 *   mailwarden tlsrpt [-c FILE] send [--day YYYY-MM-DD]
 *
 * show prints a day's (today's) counts per policy domain; send starts the
 * reports of a day (yesterday) that were not sent yet, as the daily run
 * does. Runs as the administrator (root or the queue user).
 */
#ifndef MW_CTL_TLSRPTCMD_H
#define MW_CTL_TLSRPTCMD_H

#include <stdio.h>

/* argv[0] is "tlsrpt". Returns 0 ok, 1 the gateway refused or could not
 * be reached, 2 usage. */
int tlsrptcmd_main(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void tlsrptcmd_usage(FILE *out);

#endif
