/*
 * YARA (issue 12, SCAN-6) with Debian's libyara: the rule files of a
 * directory (*.yar, *.yara; or one file) compiled once, before the
 * scanner's chroot, then matched against each buffer by the worker
 * threads (libyara's compiled rules may be scanned by several threads at
 * once). A changed rule file reaches a new scanner (a reload starts
 * one); the running one keeps the rules it compiled.
 */
#ifndef MW_CONTENT_YARA_H
#define MW_CONTENT_YARA_H

#include <stdbool.h>
#include <stddef.h>

#include "content/malware.h"

struct yara_engine;

/* Seconds one buffer may take (libyara's scan timeout), and one message
 * in all: a rule set that backtracks badly must not hold a worker for
 * ever (an error, so the message is tried again later). */
#define YARA_SCAN_TIMEOUT_S 10

/* Compile the rules at path (a directory: its *.yar and *.yara files in
 * name order; or one file). NULL on failure, with the reason in err:
 * "file:line: message" for the first compile errors. */
struct yara_engine *yara_engine_load(const char *path, char *err, size_t errlen);
void yara_engine_free(struct yara_engine *y);
/* Rules compiled, files read. */
size_t yara_engine_rules(const struct yara_engine *y);
size_t yara_engine_files(const struct yara_engine *y);

/* The malware_engine scan function (ctx: a struct yara_engine): the
 * first matching rule's identifier is the finding. */
void yara_engine_scan(const void *ctx, const char *buf, size_t len, const char *name, struct malware_verdict *out);

#endif
