/*
 * "mailwarden partners ..." (issue 13, SCAN-11): the known communication
 * partners' store (state/partners.h), read and changed directly:
 *
 *   mailwarden partners [-c FILE] list | export
 *   mailwarden partners [-c FILE] add|remove INTERNAL EXTERNAL
 *   mailwarden partners [-c FILE] import FILE|-
 *   mailwarden partners [-c FILE] expire
 *
 * export writes CSV (internal,external,domain,first_seen,last_seen,count
 * with a header line); import reads that CSV or one pair a line
 * ("internal external" or "internal,external"), '#' comments and blank
 * lines skipped. Runs as the administrator: root or the queue user (the
 * file lives in the queue's directory and must stay the queue user's).
 */
#ifndef MW_CTL_PARTNERSCMD_H
#define MW_CTL_PARTNERSCMD_H

#include <stdio.h>

/* argv[0] is "partners". Returns 0 ok, 1 a store or input error, 2 usage. */
int partnerscmd_main(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void partnerscmd_usage(FILE *out);

#endif
