/*
 * "mailwarden mta-sts [-c FILE] policy [--mode enforce|testing|none]
 * [--max-age SECONDS]": what the administrator publishes so that other
 * senders protect mail to our domains with MTA-STS (RFC 8461 3, TLS-8):
 * the policy file (mx: the gateway's hostname) and, per local domain,
 * the "_mta-sts" TXT record with a fresh id and where the file goes.
 * Prints only; changes nothing.
 */
#ifndef MW_CTL_MTASTSCMD_H
#define MW_CTL_MTASTSCMD_H

#include <stdio.h>

#include "policy/mtasts.h"

struct config;

/* The policy file's text into out (CRLF lines, as 3.2 asks); its length,
 * or 0 if it does not fit. */
size_t mtastscmd_policy_text(const struct config *c, enum mtasts_mode mode, unsigned max_age, char *out, size_t cap);

/* The whole answer: the file, then per exact local domain the records
 * (".domain" entries are named as not covered). id: 1-32 letters/digits. */
void mtastscmd_print(FILE *out, const struct config *c, enum mtasts_mode mode, unsigned max_age, const char *id);

/* argv[0] is "mta-sts". Exit status: 0 printed, 1 configuration error, 2 usage. */
int mtastscmd_main(int argc, char **argv);

/* Print the command's synopsis ("usage: mailwarden ...") to out. */
void mtastscmd_usage(FILE *out);

#endif
