/*
 * "mailwarden learn [-c FILE] --spam|--ham|--forget PATH..." (issue 11):
 * teach the Bayes store (state_dir/bayes.db, content/bayes.h) from saved
 * messages: a file with one message, an mbox (a file whose first line
 * starts with "From "), or a directory of message files (a maildir's cur/
 * and new/ included). A message is known by its Message-ID (or a digest
 * of its bytes): learning it again in the same class changes nothing, in
 * the other class moves it, --forget takes it out. The running scanner
 * reads the store when it starts: reload the gateway after training.
 */
#ifndef MW_CTL_LEARNCMD_H
#define MW_CTL_LEARNCMD_H

#include <stdio.h>

/* argv[0] is "learn". Exit status: 0 done, 1 a file or the store could
 * not be used, 2 usage. */
int learncmd_main(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void learncmd_usage(FILE *out);

#endif
