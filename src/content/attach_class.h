/*
 * What kind of file an attachment is, for the attachment policy (issue
 * 12, SCAN-7; BSI M 5.109: "questioning executables"): a small set of
 * classes that the policy forbids or allows (scan.attachments.
 * forbid_classes). A file may be of several (an archive that is
 * encrypted). Judged from the content (content/filetype.h) and from the
 * name (content/filename.h) separately; both must pass.
 */
#ifndef MW_CONTENT_ATTACH_CLASS_H
#define MW_CONTENT_ATTACH_CLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum attach_class {
	ATTACH_CLASS_EXECUTABLE = 1u << 0, /* PE, ELF, Mach-O, MSI, Java */
	ATTACH_CLASS_SCRIPT = 1u << 1,     /* JS, VBS, WSF, HTA, PowerShell, batch, shell */
	ATTACH_CLASS_SHORTCUT = 1u << 2,   /* LNK, URL, SCF */
	ATTACH_CLASS_DISKIMAGE = 1u << 3,  /* ISO, IMG, VHD, DMG */
	ATTACH_CLASS_MACRO = 1u << 4,      /* Office with macros: OLE _VBA_PROJECT, OOXML vbaProject.bin */
	ATTACH_CLASS_ARCHIVE = 1u << 5,    /* zip, 7z, rar, tar, gz, ... (not an Office container) */
	ATTACH_CLASS_ENCRYPTED = 1u << 6,  /* an archive with password-protected entries */
};

#define ATTACH_CLASS_COUNT 7

/* The classes forbidden when scan.attachments does not say. */
#define ATTACH_CLASS_DEFAULT_FORBIDDEN \
	(ATTACH_CLASS_EXECUTABLE | ATTACH_CLASS_SCRIPT | ATTACH_CLASS_MACRO | ATTACH_CLASS_SHORTCUT)

/* "executable", "script", ... for the class bit c (one bit); NULL if none. */
const char *attach_class_name(uint32_t c);
/* The symbol's suffix: "EXECUTABLE", "SCRIPT", ... */
const char *attach_class_symbol(uint32_t c);
/* The class bit named name[0..len) (as attach_class_name), or 0. */
uint32_t attach_class_parse(const char *name, size_t len);

#endif
