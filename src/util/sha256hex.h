/*
 * The SHA-256 of a byte range as 64 lower-case hex digits: what `ctl
 * status` shows of the configuration file, so an administrator can
 * compare it with `sha256sum FILE` (issue 15).
 */
#ifndef MW_UTIL_SHA256HEX_H
#define MW_UTIL_SHA256HEX_H

#include <stdbool.h>
#include <stddef.h>

#define SHA256_HEX_LEN 64

/* out gets the digest and a NUL; false (out "") if libcrypto fails. */
bool sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
