/*
 * Outlook's TNEF container (application/ms-tnef, "winmail.dat"): the
 * files it carries, read with Debian's libytnef. Outlook wraps its
 * attachments in one when it sends "rich text", so a file the attachment
 * policy or an engine must see can sit inside it, invisible to a MIME
 * parser (issue 12). content/archive.c walks it like an archive: its
 * files get the same checks, names and bounds as the files of a zip.
 *
 * libytnef's types and macros (BYTE, WORD, ...) stay inside tnef.c.
 * Thread-safe: each call parses into its own structures.
 */
#ifndef MW_CONTENT_TNEF_H
#define MW_CONTENT_TNEF_H

#include <stdbool.h>
#include <stddef.h>

/* Does buf start with TNEF's signature (0x223E9F78, little-endian)? */
bool tnef_detect(const char *buf, size_t len);

/* One attached file: its long file name when the container has one,
 * else its 8.3 title, else NULL; its bytes (valid during the call). */
struct tnef_file {
	const char *name;
	const char *data;
	size_t len;
};
typedef bool (*tnef_file_fn)(void *arg, const struct tnef_file *f);

/* Each attached file of buf[0..len) to fn, in order, until fn returns
 * false. False when libytnef cannot parse buf to its end (the files read
 * before the fault have been handed on). */
bool tnef_walk(const char *buf, size_t len, tnef_file_fn fn, void *arg);

#endif
