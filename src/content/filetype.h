/*
 * What a file is by its content (issue 12, SCAN-7): libmagic's MIME type
 * (Debian's libmagic, the `file` command's database) and a few
 * signatures of our own for the classes that matter most, so that a
 * missing magic database still finds executables, shortcuts and macros.
 *
 * libmagic's magic_t is not thread-safe: one handle, loaded once (before
 * the scanner's chroot: filetype_prepare), used under a lock by the
 * worker threads. Without a database (load failed) only our own
 * signatures judge; the MIME type is then "".
 */
#ifndef MW_CONTENT_FILETYPE_H
#define MW_CONTENT_FILETYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILETYPE_MIME_MAX 96

/* Load the magic database; call once before a chroot hides it (later
 * calls do nothing). False: it could not be loaded (logged). */
bool filetype_prepare(void);

/* The enum attach_class bits of buf[0..len) by content (archive and
 * encrypted are the archive walker's to say, content/archive.h: not
 * here), and libmagic's MIME type into mime (cap bytes; "" if unknown or
 * not asked: PDF, images and archives are known by their first bytes). */
uint32_t filetype_classes(const char *buf, size_t len, char *mime, size_t cap);

/* The classes our own signatures give buf (PE, ELF, Mach-O, #!, HTA, LNK,
 * ISO, OLE with VBA), without libmagic: for bytes that are guesses, such
 * as the salvage view's readings of broken MIME, where libmagic costs a
 * millisecond and calls random bytes a DOS program. */
uint32_t filetype_signature_classes(const char *buf, size_t len);

/* Is buf an OLE2 compound file (MS Office 97-2003, MSI) holding a VBA
 * project (the _VBA_PROJECT stream's name, UTF-16LE)? */
bool filetype_ole_macros(const char *buf, size_t len);

#endif
