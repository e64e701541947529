/* Attachment name analysis (issue 12, SCAN-7): the extension as Windows
 * sees it, its class, and the name tricks (bidi controls, double
 * extensions, trailing dots and spaces, CLSID extensions, overlong names,
 * control characters); and the content signatures of content/filetype. */
#include <criterion/criterion.h>
#include <string.h>

#include "content/attach_class.h"
#include "content/filename.h"
#include "content/filetype.h"

static struct filename_info analyze(const char *name)
{
	struct filename_info fi;
	filename_analyze(name, &fi);
	return fi;
}

Test(filename, plain_names)
{
	struct filename_info fi = analyze("Report 2026.PDF");
	cr_assert_str_eq(fi.ext, "pdf");
	cr_assert_eq(fi.ext_class, 0);
	cr_assert_eq(fi.tricks, 0);
	fi = analyze("setup.exe");
	cr_assert_eq(fi.ext_class, ATTACH_CLASS_EXECUTABLE);
	cr_assert_eq(fi.tricks, 0);
	cr_assert_eq(analyze("run.JS").ext_class, ATTACH_CLASS_SCRIPT);
	cr_assert_eq(analyze("link.lnk").ext_class, ATTACH_CLASS_SHORTCUT);
	cr_assert_eq(analyze("disk.iso").ext_class, ATTACH_CLASS_DISKIMAGE);
	cr_assert_eq(analyze("book.xlsm").ext_class, ATTACH_CLASS_MACRO);
	cr_assert_eq(analyze("a.tar.gz").ext_class, ATTACH_CLASS_ARCHIVE);
	cr_assert_eq(analyze("a.tar.gz").tricks, 0, "an archive's double extension is no trick");
	cr_assert_str_eq(analyze("noext").ext, "");
	cr_assert_str_eq(analyze(".bashrc").ext, "");
	cr_assert_str_eq(analyze(NULL).ext, "");
}

Test(filename, the_last_path_component_counts)
{
	cr_assert_str_eq(analyze("C:\\Users\\x\\evil.scr").ext, "scr");
	cr_assert_str_eq(analyze("dir.exe/readme.txt").ext, "txt");
}

Test(filename, bidi_controls)
{
	/* "invoice<RLO>fdp.exe", shown as "invoiceexe.pdf" */
	struct filename_info fi = analyze("invoice\xe2\x80\xae" "fdp.exe");
	cr_assert(fi.tricks & FILENAME_BIDI);
	cr_assert_str_eq(fi.ext, "exe");
	cr_assert(analyze("invoice.pdf\xe2\x80\xae" "exe.txt").tricks & FILENAME_BIDI);
	cr_assert(analyze("a\xe2\x81\xa7" "b.txt").tricks & FILENAME_BIDI);  /* U+2067 RLI */
	cr_assert(analyze("a\xd8\x9c" "b.txt").tricks & FILENAME_BIDI);      /* U+061C ALM */
	cr_assert_eq(analyze("r\xc3\xa9sum\xc3\xa9.pdf").tricks, 0, "other non-ASCII is no trick");
}

Test(filename, double_extension)
{
	cr_assert(analyze("invoice.pdf.exe").tricks & FILENAME_DOUBLE_EXT);
	cr_assert(analyze("photo.jpg            .scr").tricks & FILENAME_DOUBLE_EXT);
	cr_assert_eq(analyze("version.1.2.exe").tricks & FILENAME_DOUBLE_EXT, 0);
	cr_assert_eq(analyze("notes.txt.pdf").tricks & FILENAME_DOUBLE_EXT, 0, "the last one is harmless");
}

Test(filename, trailing_dots_and_spaces)
{
	struct filename_info fi = analyze("run.exe. . ");
	cr_assert(fi.tricks & FILENAME_TRAILING);
	cr_assert_str_eq(fi.ext, "exe", "judged as Windows opens it");
	cr_assert_eq(fi.ext_class, ATTACH_CLASS_EXECUTABLE);
}

Test(filename, clsid_extension)
{
	struct filename_info fi = analyze("readme.txt.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}");
	cr_assert(fi.tricks & FILENAME_CLSID);
	cr_assert_eq(analyze("a.{not-a-clsid}").tricks & FILENAME_CLSID, 0);
}

Test(filename, overlong_and_control)
{
	char name[400];
	memset(name, 'a', 300);
	strcpy(name + 300, ".exe");
	struct filename_info fi = analyze(name);
	cr_assert(fi.tricks & FILENAME_LONG);
	cr_assert_str_eq(fi.ext, "exe");
	char cjk[400 * 3 + 8] = "";
	for (int i = 0; i < 100; i++)
		strcat(cjk, "\xe6\x96\x87");  /* 100 characters, 300 bytes */
	strcat(cjk, ".pdf");
	cr_assert_eq(analyze(cjk).tricks & FILENAME_LONG, 0, "characters count, not bytes");
	char huge[3000];
	memset(huge, 'b', 2990);
	strcpy(huge + 2990, ".exe");
	fi = analyze(huge);
	cr_assert(fi.tricks & FILENAME_LONG);
	cr_assert_eq(fi.ext_class, ATTACH_CLASS_EXECUTABLE, "the end of an overlong name is judged");
	cr_assert(analyze("a\tb.txt").tricks & FILENAME_CONTROL);
	cr_assert(analyze("a\xc2\x85" "b.txt").tricks & FILENAME_CONTROL);
}

Test(filename, symbols_of_every_trick)
{
	for (uint32_t bit = 1; bit <= FILENAME_CONTROL; bit <<= 1) {
		cr_assert_not_null(filename_trick_symbol(bit));
		cr_assert_not_null(filename_trick_text(bit));
	}
	cr_assert_str_eq(filename_trick_symbol(FILENAME_BIDI), "NAME_BIDI");
}

Test(filetype, content_signatures)
{
	char mime[FILETYPE_MIME_MAX];
	char pe[0x100] = "MZ";
	pe[0x3c] = 0x40;
	memcpy(pe + 0x40, "PE\0\0", 4);
	cr_assert(filetype_classes(pe, sizeof(pe), mime, sizeof(mime)) & ATTACH_CLASS_EXECUTABLE);
	cr_assert(filetype_classes("\x7f" "ELF\x02\x01\x01", 7, mime, sizeof(mime)) & ATTACH_CLASS_EXECUTABLE);
	cr_assert(filetype_classes("#!/bin/sh\necho hi\n", 18, mime, sizeof(mime)) & ATTACH_CLASS_SCRIPT);
	static const char lnk[76] = "\x4c\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46";
	cr_assert(filetype_classes(lnk, sizeof(lnk), mime, sizeof(mime)) & ATTACH_CLASS_SHORTCUT);
	char ole[600] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
	memcpy(ole + 300, "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0", 24);
	cr_assert(filetype_ole_macros(ole, sizeof(ole)));
	cr_assert(filetype_classes(ole, sizeof(ole), mime, sizeof(mime)) & ATTACH_CLASS_MACRO);
	const char text[] = "Dear customer, please find the invoice attached.\n";
	cr_assert_eq(filetype_classes(text, strlen(text), mime, sizeof(mime)), 0);
	cr_assert_str_eq(mime, "text/plain");
	/* "MZ" alone (no PE header) is not a PE */
	cr_assert_eq(filetype_classes("MZ plain words here", 19, mime, sizeof(mime)) & ATTACH_CLASS_EXECUTABLE, 0);
}

Test(attach_class, names_round_trip)
{
	for (uint32_t bit = 1; bit < (1u << ATTACH_CLASS_COUNT); bit <<= 1) {
		const char *n = attach_class_name(bit);
		cr_assert_not_null(n);
		cr_assert_eq(attach_class_parse(n, strlen(n)), bit);
	}
	cr_assert_eq(attach_class_parse("exe", 3), 0);
}
