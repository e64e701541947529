/*
 * "mailwarden scan [-c FILE] [--outbound] [--auth LOGIN] [--all] [--json]
 * MESSAGE..." (issue 11): the content checks on saved messages, without a
 * running gateway, as the scanner process would run them under the
 * configuration's policy for the direction; prints each message's score,
 * action and every hit with its points and what it means (like
 * `spamassassin -t` or `rspamc`). What an administrator uses to see why a
 * message scored. --all switches every content check on (score, its
 * configured points or 1) whatever the configuration says.
 */
#ifndef MW_CTL_SCANCMD_H
#define MW_CTL_SCANCMD_H

#include <stdio.h>

/* argv[0] is "scan". Exit status: 0 every message was scanned, 1 a
 * message could not be read (or the configuration not loaded), 2 usage. */
int scancmd_main(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void scancmd_usage(FILE *out);

#endif
