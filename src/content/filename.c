/*
 * See filename.h.
 */
#include "content/filename.h"

#include <stdio.h>
#include <string.h>

#include "content/attach_class.h"

static const struct {
	const char *ext;
	uint32_t cls;
} ext_classes[] = {
	/* executable code Windows, macOS or Java run */
	{ "exe", ATTACH_CLASS_EXECUTABLE }, { "com", ATTACH_CLASS_EXECUTABLE }, { "scr", ATTACH_CLASS_EXECUTABLE },
	{ "pif", ATTACH_CLASS_EXECUTABLE }, { "cpl", ATTACH_CLASS_EXECUTABLE }, { "dll", ATTACH_CLASS_EXECUTABLE },
	{ "sys", ATTACH_CLASS_EXECUTABLE }, { "ocx", ATTACH_CLASS_EXECUTABLE }, { "drv", ATTACH_CLASS_EXECUTABLE },
	{ "msi", ATTACH_CLASS_EXECUTABLE }, { "msp", ATTACH_CLASS_EXECUTABLE }, { "mst", ATTACH_CLASS_EXECUTABLE },
	{ "msc", ATTACH_CLASS_EXECUTABLE }, { "jar", ATTACH_CLASS_EXECUTABLE }, { "apk", ATTACH_CLASS_EXECUTABLE },
	{ "appx", ATTACH_CLASS_EXECUTABLE }, { "msix", ATTACH_CLASS_EXECUTABLE }, { "gadget", ATTACH_CLASS_EXECUTABLE },
	{ "application", ATTACH_CLASS_EXECUTABLE }, { "xbap", ATTACH_CLASS_EXECUTABLE },
	{ "elf", ATTACH_CLASS_EXECUTABLE }, { "xll", ATTACH_CLASS_EXECUTABLE },  /* xll: an Excel add-in, a DLL */
	/* scripts a double click runs */
	{ "js", ATTACH_CLASS_SCRIPT }, { "jse", ATTACH_CLASS_SCRIPT }, { "vbs", ATTACH_CLASS_SCRIPT },
	{ "vbe", ATTACH_CLASS_SCRIPT }, { "vb", ATTACH_CLASS_SCRIPT }, { "wsf", ATTACH_CLASS_SCRIPT },
	{ "wsh", ATTACH_CLASS_SCRIPT }, { "wsc", ATTACH_CLASS_SCRIPT }, { "ws", ATTACH_CLASS_SCRIPT },
	{ "hta", ATTACH_CLASS_SCRIPT }, { "sct", ATTACH_CLASS_SCRIPT }, { "ps1", ATTACH_CLASS_SCRIPT },
	{ "psm1", ATTACH_CLASS_SCRIPT }, { "psd1", ATTACH_CLASS_SCRIPT }, { "ps1xml", ATTACH_CLASS_SCRIPT },
	{ "bat", ATTACH_CLASS_SCRIPT }, { "cmd", ATTACH_CLASS_SCRIPT }, { "sh", ATTACH_CLASS_SCRIPT },
	{ "command", ATTACH_CLASS_SCRIPT }, { "reg", ATTACH_CLASS_SCRIPT }, { "inf", ATTACH_CLASS_SCRIPT },
	{ "msh", ATTACH_CLASS_SCRIPT }, { "chm", ATTACH_CLASS_SCRIPT },  /* chm: compiled help runs its scripts */
	/* shortcuts that start something else */
	{ "lnk", ATTACH_CLASS_SHORTCUT }, { "url", ATTACH_CLASS_SHORTCUT }, { "scf", ATTACH_CLASS_SHORTCUT },
	{ "website", ATTACH_CLASS_SHORTCUT }, { "settingcontent-ms", ATTACH_CLASS_SHORTCUT },
	/* disk images Windows mounts on a double click */
	{ "iso", ATTACH_CLASS_DISKIMAGE }, { "img", ATTACH_CLASS_DISKIMAGE }, { "vhd", ATTACH_CLASS_DISKIMAGE },
	{ "vhdx", ATTACH_CLASS_DISKIMAGE }, { "dmg", ATTACH_CLASS_DISKIMAGE },
	/* Office formats with macros */
	{ "docm", ATTACH_CLASS_MACRO }, { "dotm", ATTACH_CLASS_MACRO }, { "xlsm", ATTACH_CLASS_MACRO },
	{ "xltm", ATTACH_CLASS_MACRO }, { "xlam", ATTACH_CLASS_MACRO }, { "pptm", ATTACH_CLASS_MACRO },
	{ "potm", ATTACH_CLASS_MACRO }, { "ppam", ATTACH_CLASS_MACRO }, { "ppsm", ATTACH_CLASS_MACRO },
	{ "sldm", ATTACH_CLASS_MACRO },
	/* OneNote: a click runs the files embedded in the notebook */
	{ "one", ATTACH_CLASS_MACRO }, { "onepkg", ATTACH_CLASS_MACRO },
	/* archives */
	{ "zip", ATTACH_CLASS_ARCHIVE }, { "7z", ATTACH_CLASS_ARCHIVE }, { "rar", ATTACH_CLASS_ARCHIVE },
	{ "tar", ATTACH_CLASS_ARCHIVE }, { "gz", ATTACH_CLASS_ARCHIVE }, { "tgz", ATTACH_CLASS_ARCHIVE },
	{ "bz2", ATTACH_CLASS_ARCHIVE }, { "xz", ATTACH_CLASS_ARCHIVE }, { "cab", ATTACH_CLASS_ARCHIVE },
	{ "arj", ATTACH_CLASS_ARCHIVE }, { "lzh", ATTACH_CLASS_ARCHIVE }, { "ace", ATTACH_CLASS_ARCHIVE },
	{ "zst", ATTACH_CLASS_ARCHIVE }, { "cpio", ATTACH_CLASS_ARCHIVE }, { "z", ATTACH_CLASS_ARCHIVE },
};

static const char *const document_exts[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "txt", "csv", "jpg",
	"jpeg", "png", "gif", "bmp", "tif", "tiff", "mp3", "mp4", "avi", "mov", "wav", "htm", "html", "xml",
};

uint32_t filename_ext_class(const char *ext)
{
	for (size_t i = 0; i < sizeof(ext_classes) / sizeof(ext_classes[0]); i++)
		if (strcmp(ext_classes[i].ext, ext) == 0)
			return ext_classes[i].cls;
	return 0;
}

bool filename_ext_document(const char *ext)
{
	for (size_t i = 0; i < sizeof(document_exts) / sizeof(document_exts[0]); i++)
		if (strcmp(document_exts[i], ext) == 0)
			return true;
	return false;
}

/* The length of a bidi control's UTF-8 at p (0: none): U+200E/F (LRM,
 * RLM), U+202A-202E (LRE, RLE, PDF, LRO, RLO), U+2066-2069 (isolates),
 * U+061C (ALM). Unicode TR 9; the RLO trick: "invoice<RLO>fdp.exe" is
 * shown as "invoiceexe.pdf". */
static size_t bidi_len(const unsigned char *p)
{
	if (p[0] == 0xd8 && p[1] == 0x9c)
		return 2;
	if (p[0] != 0xe2 || !p[1] || !p[2])
		return 0;
	if (p[1] == 0x80 && ((p[2] >= 0x8e && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3;
	if (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;
	return 0;
}

/* Control characters: C0, DEL, and C1 as UTF-8 (U+0080-009F). */
static bool control_at(const unsigned char *p)
{
	return *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "{8-4-4-4-12 hex}" exactly, s[0..n). */
static bool is_clsid(const char *s, size_t n)
{
	static const char pattern[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
	if (n != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pattern[i] == 'x' ? !is_hex(s[i]) : s[i] != pattern[i])
			return false;
	return true;
}

/* The extension of base[0..n) after its last dot, lower case, into out
 * (cap bytes); false if there is none or it does not fit. */
static bool extension(const char *base, size_t n, char *out, size_t cap)
{
	const char *dot = NULL;
	for (size_t i = 0; i < n; i++)
		if (base[i] == '.')
			dot = base + i;
	if (!dot || dot == base)
		return false;
	size_t el = (size_t)(base + n - dot - 1);
	if (el == 0 || el >= cap)
		return false;
	for (size_t i = 0; i < el; i++)
		out[i] = dot[1 + i] >= 'A' && dot[1 + i] <= 'Z' ? (char)(dot[1 + i] - 'A' + 'a') : dot[1 + i];
	out[el] = '\0';
	return true;
}

/* The visible name: bidi controls taken out, as Explorer would still
 * treat the bytes; the tricks met on the way in *tricks. A name longer
 * than out keeps its end (where the extension is). */
static size_t visible_name(const char *name, char *out, size_t cap, uint32_t *tricks)
{
	size_t len = strlen(name), n = 0;
	const unsigned char *keep = (const unsigned char *)name;
	if (len >= cap) {
		keep += len - (cap - 1);
		while ((*keep & 0xc0) == 0x80)  /* not in the middle of a character */
			keep++;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p;) {
		size_t b = bidi_len(p);
		if (b) {
			*tricks |= FILENAME_BIDI;
			p += b;
			continue;
		}
		if (control_at(p))
			*tricks |= FILENAME_CONTROL;
		if (p >= keep && n + 1 < cap)
			out[n++] = (char)*p;
		p++;
	}
	out[n] = '\0';
	return n;
}

/* Code points of the UTF-8 name (continuation bytes not counted). */
static size_t characters(const char *name)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

void filename_analyze(const char *name, struct filename_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!name || !*name)
		return;
	if (characters(name) > FILENAME_MAX_CHARS)
		out->tricks |= FILENAME_LONG;
	char buf[FILENAME_MAX_CHARS * 4 + 1];
	size_t n = visible_name(name, buf, sizeof(buf), &out->tricks);
	const char *base = buf;
	for (size_t i = 0; i < n; i++)  /* the last path component */
		if (buf[i] == '/' || buf[i] == '\\')
			base = buf + i + 1;
	n -= (size_t)(base - buf);
	size_t kept = n;
	while (kept && (base[kept - 1] == '.' || base[kept - 1] == ' '))
		kept--;
	if (kept < n && kept)
		out->tricks |= FILENAME_TRAILING;
	const char *dot = memrchr(base, '.', kept);
	if (dot && is_clsid(dot + 1, (size_t)(base + kept - dot - 1)))
		out->tricks |= FILENAME_CLSID;
	if (!extension(base, kept, out->ext, sizeof(out->ext)))
		return;
	out->ext_class = filename_ext_class(out->ext);
	/* the name before the extension, its own padding dropped */
	size_t stem = (size_t)(dot - base);
	while (stem && base[stem - 1] == ' ')
		stem--;
	char prev[FILENAME_EXT_MAX];
	bool dangerous = out->ext_class & (ATTACH_CLASS_EXECUTABLE | ATTACH_CLASS_SCRIPT | ATTACH_CLASS_SHORTCUT);
	if (dangerous && extension(base, stem, prev, sizeof(prev)) && filename_ext_document(prev))
		out->tricks |= FILENAME_DOUBLE_EXT;
}

static const struct {
	uint32_t bit;
	const char *symbol, *text;
} tricks[] = {
	{ FILENAME_BIDI, "NAME_BIDI", "bidi control in the name" },
	{ FILENAME_DOUBLE_EXT, "NAME_DOUBLE_EXT", "double extension" },
	{ FILENAME_TRAILING, "NAME_TRAILING", "trailing dots or spaces in the name" },
	{ FILENAME_CLSID, "NAME_CLSID", "CLSID extension" },
	{ FILENAME_LONG, "NAME_LONG", "overlong name" },
	{ FILENAME_CONTROL, "NAME_CONTROL", "control character in the name" },
};

const char *filename_trick_symbol(uint32_t trick)
{
	for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++)
		if (tricks[i].bit == trick)
			return tricks[i].symbol;
	return NULL;
}

const char *filename_trick_text(uint32_t trick)
{
	for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++)
		if (tricks[i].bit == trick)
			return tricks[i].text;
	return NULL;
}
