/*
 * What an attachment's name says and the tricks played with it (issue 12,
 * SCAN-7). The name arrives decoded (RFC 2231 continuations, RFC 2047
 * encoded words: content/mime.h), UTF-8, possibly with a path; it is
 * judged the way Windows Explorer would treat it: the last path
 * component, trailing dots and spaces dropped, the extension after the
 * last dot. Pure: no I/O, no allocation.
 */
#ifndef MW_CONTENT_FILENAME_H
#define MW_CONTENT_FILENAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Name tricks; one bit each. */
enum filename_trick {
	FILENAME_BIDI = 1u << 0,       /* a bidi control (U+202E RLO, U+202D, U+2066-2069, ...) reorders what is shown */
	FILENAME_DOUBLE_EXT = 1u << 1, /* "invoice.pdf.exe", "photo.jpg      .scr": a harmless extension before a dangerous one */
	FILENAME_TRAILING = 1u << 2,   /* trailing dots or spaces, which Windows drops ("run.exe.") */
	FILENAME_CLSID = 1u << 3,      /* a CLSID extension (".{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}") */
	FILENAME_LONG = 1u << 4,       /* over FILENAME_MAX_CHARS characters (NTFS's limit; hides the end in views) */
	FILENAME_CONTROL = 1u << 5,    /* a control character (C0, DEL, C1) */
};

#define FILENAME_MAX_CHARS 255
#define FILENAME_EXT_MAX 16

struct filename_info {
	char ext[FILENAME_EXT_MAX];    /* the extension, lower case, without the dot ("" if none or too long) */
	uint32_t ext_class;            /* enum attach_class of the extension (0: none known) */
	uint32_t tricks;               /* enum filename_trick */
};

/* Analyse name (NUL-terminated, UTF-8; NULL or "" gives an empty info). */
void filename_analyze(const char *name, struct filename_info *out);

/* The enum attach_class of an extension (lower case, no dot), or 0. */
uint32_t filename_ext_class(const char *ext);

/* Is ext (lower case) one whose files are expected to be harmless
 * documents or media ("pdf", "jpg", "docx", ...)? */
bool filename_ext_document(const char *ext);

/* The symbol suffix of one trick bit ("NAME_BIDI"), or NULL. */
const char *filename_trick_symbol(uint32_t trick);
/* What the trick is, in words for replies ("bidi control in the name"). */
const char *filename_trick_text(uint32_t trick);

#endif
