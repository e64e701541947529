/* The strip action's rewrite (content/strip.h; SCAN-8): the offending
 * leaves of the MIME view replaced by notice parts, the rest of the
 * message as it was (same decoded content, valid MIME), and nothing done
 * when a part is not where the view has it. The notice template's fields,
 * with names that try to reorder or break the text made harmless. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "content/mime.h"
#include "content/strip.h"

#define EICAR "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

static const char three_parts[] =
	"Subject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
	"--b1\r\nContent-Type: text/plain\r\n\r\nsee the attachments\r\n"
	"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"eicar.dat\"\r\n\r\n"
	EICAR "\r\n"
	"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCg==\r\n"
	"--b1--\r\n";

static struct mime_message before, after;

static void done(void)
{
	mime_free(&before);
	mime_free(&after);
}

TestSuite(strip, .fini = done);

Test(strip, the_part_is_replaced_by_the_notice_and_the_rest_kept)
{
	struct strip_part p = { 1, "The attachment eicar.dat was removed." };
	size_t len = 0;
	char *out = strip_parts(three_parts, strlen(three_parts), &p, 1, &len);
	cr_assert_not_null(out);
	cr_assert_null(memmem(out, len, "EICAR", 5), "the stripped content is gone");
	cr_assert_not_null(strstr(out, "Subject: parts\r\n"), "the header section stays");
	mime_parse(three_parts, strlen(three_parts), &mime_default_limits, &before);
	mime_parse(out, len, &mime_default_limits, &after);
	cr_assert_eq(after.n_parts, 3, "the same leaf count: the notice stands where the part stood");
	cr_assert_eq(after.problems, 0, "valid MIME");
	cr_assert_str_eq(after.parts[1].type, "text/plain");
	cr_assert_null(after.parts[1].filename);
	cr_assert_str_eq(after.parts[1].data, "The attachment eicar.dat was removed.");
	for (size_t i = 0; i < 3; i += 2) {
		cr_assert_eq(after.parts[i].len, before.parts[i].len);
		cr_assert_eq(memcmp(after.parts[i].data, before.parts[i].data, before.parts[i].len), 0);
	}
	cr_assert_str_eq(after.parts[2].filename, "a.pdf");
	for (size_t i = 0; i + 1 < len; i++)
		if (out[i + 1] == '\n')
			cr_assert_eq(out[i], '\r', "CRLF line ends at byte %zu", i);
	free(out);
}

Test(strip, a_single_part_message_gets_the_notice_as_its_body)
{
	const char msg[] = "Subject: one\r\nMIME-Version: 1.0\r\nContent-Type: application/x-msdownload; name=x.exe\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAA\r\n";
	struct strip_part p = { 0, "Gr\xc3\xbc\xc3\x9f" "e: x.exe entfernt" };
	size_t len = 0;
	char *out = strip_parts(msg, strlen(msg), &p, 1, &len);
	cr_assert_not_null(out);
	mime_parse(out, len, &mime_default_limits, &after);
	cr_assert_eq(after.n_parts, 1);
	cr_assert_str_eq(after.parts[0].type, "text/plain");
	cr_assert_str_eq(after.parts[0].charset, "utf-8");
	cr_assert_str_eq(after.parts[0].data, "Gr\xc3\xbc\xc3\x9f" "e: x.exe entfernt");
	free(out);
}

Test(strip, a_part_inside_an_attached_message_is_found_by_the_views_index)
{
	const char msg[] = "Subject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n"
			   "--o\r\nContent-Type: text/plain\r\n\r\nforwarded\r\n"
			   "--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
			   "Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain\r\n\r\ninner text\r\n"
			   "--i\r\nContent-Type: application/octet-stream; name=bad.bin\r\n\r\n" EICAR "\r\n--i--\r\n"
			   "--o--\r\n";
	mime_parse(msg, strlen(msg), &mime_default_limits, &before);
	cr_assert_eq(before.n_parts, 3);
	cr_assert_str_eq(before.parts[2].filename, "bad.bin");
	struct strip_part p = { 2, "removed" };
	size_t len = 0;
	char *out = strip_parts(msg, strlen(msg), &p, 1, &len);
	cr_assert_not_null(out);
	cr_assert_null(memmem(out, len, "EICAR", 5));
	mime_parse(out, len, &mime_default_limits, &after);
	cr_assert_eq(after.n_parts, 3);
	cr_assert_str_eq(after.parts[1].data, before.parts[1].data);
	cr_assert_str_eq(after.parts[2].data, "removed");
	free(out);
}

Test(strip, a_part_the_view_does_not_have_is_not_stripped)
{
	struct strip_part p = { 7, "nothing" };
	size_t len = 0;
	cr_assert_null(strip_parts(three_parts, strlen(three_parts), &p, 1, &len));
}

Test(strip, the_notice_fields_are_filled)
{
	char out[STRIP_NOTICE_MAX];
	size_t n = strip_notice_fill(STRIP_NOTICE_DEFAULT, "a.exe", "executable", "0123456789ABCDEF", out, sizeof(out));
	cr_assert_str_eq(out, "The attachment a.exe was removed: executable. Ask your administrator to release "
			      "message 0123456789ABCDEF.");
	cr_assert_eq(n, strlen(out));
	strip_notice_fill("{unknown} {name}{name}", "x", "", "", out, sizeof(out));
	cr_assert_str_eq(out, "{unknown} xx");
}

Test(strip, controls_and_bidi_overrides_in_a_name_become_question_marks)
{
	char out[STRIP_NOTICE_MAX];
	strip_notice_fill("[{name}]", "invoice.pdf\xe2\x80\xae" "exe.txt\r\nX: y\xff", "", "", out, sizeof(out));
	cr_assert_str_eq(out, "[invoice.pdf?exe.txt??X: y?]");
}

Test(strip, a_long_notice_is_cut_on_a_character_boundary)
{
	char out[8];
	size_t n = strip_notice_fill("{name}", "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc", "", "", out, sizeof(out));
	cr_assert_eq(n, 6);
	cr_assert_str_eq(out, "\xc3\xbc\xc3\xbc\xc3\xbc");
}
