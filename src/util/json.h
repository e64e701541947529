/*
 * JSON output for the administrator's commands (--json): strings written
 * so that any byte from a message or the network stays inside its string.
 */
#ifndef MW_UTIL_JSON_H
#define MW_UTIL_JSON_H

#include <stdio.h>

/* s as a JSON string, quotes included ("" for NULL); controls as \u00XX.
 * Bytes >= 0x80 pass unchanged (UTF-8 in, UTF-8 out). */
void json_put_str(FILE *out, const char *s);

#endif
