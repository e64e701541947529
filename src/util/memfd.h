/*
 * Sealed memfds: how a message crosses between the queue and the scanner
 * (issue 10, SEC-1). A sealed memfd can be neither written, grown, shrunk
 * nor re-sealed by anyone, so the process that receives it reads exactly
 * the bytes the sender put there, and the descriptor reaches nothing else.
 */
#ifndef MW_UTIL_MEMFD_H
#define MW_UTIL_MEMFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seal mfd (from memfd_create with MFD_ALLOW_SEALING) against every change.
 * false: it could not be sealed (errno set). */
bool memfd_seal(int mfd);

/* A new sealed memfd holding buf[0..len), or -1 (errno set). */
int memfd_sealed_from(const void *buf, size_t len, const char *name);

/* Is fd a memfd that nobody can change any more? Its size in *size. The
 * receiving side's check: a descriptor from a less trusted process is
 * used only if this holds. */
bool memfd_is_sealed(int fd, uint64_t *size);

#endif
