/*
 * See filetype.h.
 */
#include "content/filetype.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <magic.h>

#include "content/attach_class.h"
#include "util/log.h"

/* libmagic's type tests look at the start of a file (the signatures
 * further in that matter, ISO's at 32 KiB, are ours); its text tests run
 * regular expressions over all it is given, about a millisecond per KiB
 * of text, under the lock: a script is known by its first lines. */
#define MAGIC_BYTES (8u << 10)
#define MAGIC_TEXT_BYTES 1024u

static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_handle;
static bool magic_tried;

/* With magic_lock held. */
static void load_locked(void)
{
	if (magic_tried)
		return;
	magic_tried = true;
	magic_handle = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_CSV |
				  MAGIC_ERROR);
	if (magic_handle && magic_load(magic_handle, NULL) == 0)
		return;
	log_event(LOG_WARNING, "magic_unavailable", "msg",
		  magic_handle ? magic_error(magic_handle) : "magic_open failed", NULL);
	if (magic_handle)
		magic_close(magic_handle);
	magic_handle = NULL;
}

bool filetype_prepare(void)
{
	pthread_mutex_lock(&magic_lock);
	load_locked();
	bool ok = magic_handle != NULL;
	pthread_mutex_unlock(&magic_lock);
	return ok;
}

/* No NUL byte in the first KiB: what libmagic's text tests will read. */
static bool looks_text(const char *buf, size_t len)
{
	return memchr(buf, '\0', len < MAGIC_TEXT_BYTES ? len : MAGIC_TEXT_BYTES) == NULL;
}

static void magic_mime(const char *buf, size_t len, char *mime, size_t cap)
{
	mime[0] = '\0';
	size_t cut = looks_text(buf, len) ? MAGIC_TEXT_BYTES : MAGIC_BYTES;
	len = len < cut ? len : cut;
	pthread_mutex_lock(&magic_lock);
	load_locked();
	const char *m = magic_handle ? magic_buffer(magic_handle, buf, len) : NULL;
	if (m)
		snprintf(mime, cap, "%s", m);
	pthread_mutex_unlock(&magic_lock);
}

static bool starts(const char *buf, size_t len, const void *sig, size_t n)
{
	return len >= n && memcmp(buf, sig, n) == 0;
}

/* PE: "MZ", and e_lfanew (at 0x3c) pointing at "PE\0\0" (Microsoft PE
 * format, "MS-DOS Stub"). */
static bool is_pe(const char *buf, size_t len)
{
	if (!starts(buf, len, "MZ", 2) || len < 0x40)
		return false;
	const unsigned char *p = (const unsigned char *)buf + 0x3c;
	size_t off = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
	return off <= len - 4 && memcmp(buf + off, "PE\0\0", 4) == 0;
}

static bool is_macho(const char *buf, size_t len)
{
	static const unsigned char magics[][4] = {
		{ 0xfe, 0xed, 0xfa, 0xce }, { 0xfe, 0xed, 0xfa, 0xcf }, { 0xce, 0xfa, 0xed, 0xfe },
		{ 0xcf, 0xfa, 0xed, 0xfe }, { 0xca, 0xfe, 0xba, 0xbe },  /* the last: universal binary, Java class */
	};
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (starts(buf, len, magics[i], 4))
			return true;
	return false;
}

/* [MS-SHLLINK] 2.1: header size 0x4C, then the LinkCLSID 00021401-0000-0000-C000-000000000046. */
static bool is_lnk(const char *buf, size_t len)
{
	static const unsigned char sig[20] = { 0x4c, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46 };
	return starts(buf, len, sig, sizeof(sig));
}

/* ISO 9660: the volume descriptor "CD001" at sector 16. */
static bool is_iso(const char *buf, size_t len)
{
	return len >= 0x8006 && memcmp(buf + 0x8001, "CD001", 5) == 0;
}

bool filetype_ole_macros(const char *buf, size_t len)
{
	static const unsigned char ole[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
	static const char vba[] = "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0";
	return starts(buf, len, ole, sizeof(ole)) && memmem(buf, len, vba, sizeof(vba) - 1) != NULL;
}

/* An HTML application's tag near the start (HTA is run by mshta.exe). */
static bool is_hta(const char *buf, size_t len)
{
	size_t n = len < 4096 ? len : 4096;
	static const char tag[] = "<hta:application";
	/* From '<' to '<': a comparison at every byte cost more than the
	 * rest of the signatures together on a salvaged blob. */
	for (const char *p = memchr(buf, '<', n); p; p = memchr(p + 1, '<', n - (size_t)(p + 1 - buf))) {
		if ((size_t)(p - buf) + sizeof(tag) - 1 > n)
			return false;
		if (strncasecmp(p, tag, sizeof(tag) - 1) == 0)
			return true;
	}
	return false;
}

static const struct {
	const char *mime;
	uint32_t cls;
} mime_classes[] = {
	{ "application/x-dosexec", ATTACH_CLASS_EXECUTABLE },
	{ "application/vnd.microsoft.portable-executable", ATTACH_CLASS_EXECUTABLE },
	{ "application/x-executable", ATTACH_CLASS_EXECUTABLE },
	{ "application/x-pie-executable", ATTACH_CLASS_EXECUTABLE },
	{ "application/x-sharedlib", ATTACH_CLASS_EXECUTABLE },
	{ "application/x-mach-binary", ATTACH_CLASS_EXECUTABLE },
	{ "application/x-msi", ATTACH_CLASS_EXECUTABLE },
	{ "application/java-archive", ATTACH_CLASS_EXECUTABLE },
	{ "application/x-java-applet", ATTACH_CLASS_EXECUTABLE },
	{ "text/x-shellscript", ATTACH_CLASS_SCRIPT },
	{ "text/x-msdos-batch", ATTACH_CLASS_SCRIPT },
	{ "application/javascript", ATTACH_CLASS_SCRIPT },
	{ "text/javascript", ATTACH_CLASS_SCRIPT },
	{ "application/x-ms-shortcut", ATTACH_CLASS_SHORTCUT },
	{ "application/x-iso9660-image", ATTACH_CLASS_DISKIMAGE },
	{ "application/x-apple-diskimage", ATTACH_CLASS_DISKIMAGE },
};

static uint32_t mime_class(const char *mime)
{
	for (size_t i = 0; i < sizeof(mime_classes) / sizeof(mime_classes[0]); i++)
		if (strcmp(mime_classes[i].mime, mime) == 0)
			return mime_classes[i].cls;
	/* application/vnd.ms-word.document.macroEnabled.12 and its kin */
	return strcasestr(mime, "macroenabled") ? ATTACH_CLASS_MACRO : 0;
}

/* Formats whose first bytes settle what libmagic would say for the policy:
 * documents and images that are none of the classes, and the archives
 * the archive walker opens (their files are judged one by one). Our own
 * signatures still look at them (a polyglot). libmagic costs some 0.4 ms
 * per binary file; mail is mostly these. */
static bool settled_by_signature(const char *buf, size_t len)
{
	static const struct {
		const char *sig;
		size_t len;
	} sigs[] = {
		{ "%PDF-", 5 }, { "\x89PNG\r\n\x1a\n", 8 }, { "\xff\xd8\xff", 3 }, { "GIF8", 4 },
		{ "PK\x03\x04", 4 }, { "7z\xbc\xaf\x27\x1c", 6 }, { "Rar!\x1a\x07", 6 }, { "\x1f\x8b", 2 },
		{ "BZh", 3 }, { "\xfd" "7zXZ\0", 6 },
	};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (starts(buf, len, sigs[i].sig, sigs[i].len))
			return true;
	return false;
}

uint32_t filetype_signature_classes(const char *buf, size_t len)
{
	uint32_t c = 0;
	if (is_pe(buf, len) || starts(buf, len, "\x7f" "ELF", 4) || is_macho(buf, len))
		c |= ATTACH_CLASS_EXECUTABLE;
	if (starts(buf, len, "#!", 2) || is_hta(buf, len))
		c |= ATTACH_CLASS_SCRIPT;
	if (is_lnk(buf, len))
		c |= ATTACH_CLASS_SHORTCUT;
	if (is_iso(buf, len))
		c |= ATTACH_CLASS_DISKIMAGE;
	if (filetype_ole_macros(buf, len))
		c |= ATTACH_CLASS_MACRO;
	return c;
}

uint32_t filetype_classes(const char *buf, size_t len, char *mime, size_t cap)
{
	if (settled_by_signature(buf, len))
		mime[0] = '\0';
	else
		magic_mime(buf, len, mime, cap);
	uint32_t c = mime_class(mime);
	/* libmagic calls bytes that decode as a plausible first x86
	 * instruction a DOS COM program, and random data (a compressed or
	 * encrypted file, a signature block) often does. A COM file has no
	 * signature to go by (its name, .com, is judged); an MZ header is. */
	if (strcmp(mime, "application/x-dosexec") == 0 && !starts(buf, len, "MZ", 2))
		c &= ~ATTACH_CLASS_EXECUTABLE;
	return c | filetype_signature_classes(buf, len);
}
