/* The salvage view (content/salvage.h; issue 12, SCAN-6): encoded blocks
 * that broken MIME hides from the MIME view are decoded the ways lenient
 * readers decode them; what the view already holds costs nothing; text
 * that only looks encoded (separators, PGP checksums, settings) is not
 * judged ambiguous. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "content/mime.h"
#include "content/salvage.h"

#define SECRET "MAILWARDEN-SALVAGE-TEST-PAYLOAD-0123456789-abcdefghijklmnopq"
/* SECRET in base64 */
#define SECRET_B64 "TUFJTFdBUkRFTi1TQUxWQUdFLVRFU1QtUEFZTE9BRC0wMTIzNDU2Nzg5LWFiY2RlZmdoaWprbG1ub3Bx"

static struct mime_message m;
static struct salvage s;

static void salvage(const char *msg)
{
	mime_parse(msg, strlen(msg), &mime_default_limits, &m);
	salvage_collect(msg, strlen(msg), &m, &s);
}

static void done(void)
{
	salvage_free(&s);
	mime_free(&m);
}

TestSuite(salvage, .fini = done);

static bool holds(const char *needle)
{
	for (size_t i = 0; i < s.n; i++)
		if (memmem(s.blobs[i].data, s.blobs[i].len, needle, strlen(needle)))
			return true;
	return false;
}

Test(salvage, a_well_formed_attachment_costs_no_blob)
{
	salvage("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		SECRET_B64 "\r\n--b--\r\n");
	cr_assert_eq(s.n, 0);
	cr_assert(!s.ambiguous && !s.binhex && !s.truncated);
}

Test(salvage, base64_behind_a_second_boundary_parameter_is_found)
{
	/* The view follows the first boundary and sees one text part. */
	salvage("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=one; boundary=two\r\n\r\n"
		"--one\r\nContent-Type: text/plain\r\n\r\n"
		"--two\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		SECRET_B64 "\r\n--two--\r\n--one--\r\n");
	cr_assert(holds(SECRET));
}

Test(salvage, stray_equal_signs_in_base64_are_read_past_and_judged_ambiguous)
{
	salvage("MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"TUFJ=TFdB=UkRF=Ti1T=QUxW=QUdF=LVRF=U1Qt=UEFZ=TE9B=RC0w=MTIz=NDU2=Nzg5=LWFi=Y2Rl=Zmdo=aWpr=bG1u=b3Bx=\r\n");
	cr_assert(holds(SECRET));
	cr_assert(s.ambiguous);
}

Test(salvage, a_junk_first_line_is_read_past)
{
	salvage("MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\nA\r\n" SECRET_B64 "\r\n");
	cr_assert(holds(SECRET));
}

Test(salvage, junk_after_base64_on_a_line_is_cut_off)
{
	/* "TUF#junk": readers that stop at the first character outside the
	 * alphabet read TUF, then the next line. */
	char msg[4096] = "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
			 "Content-Transfer-Encoding: base64\r\n\r\n";
	const char *b64 = SECRET_B64;
	for (size_t i = 0; b64[i]; i += 20)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%.3s#abce0123fghj\r\n%.17s\r\n", b64 + i,
			 strlen(b64 + i) > 3 ? b64 + i + 3 : "");
	salvage(msg);
	cr_assert(holds(SECRET));
	cr_assert(!s.ambiguous);
}

Test(salvage, quoted_printable_with_blanks_after_soft_breaks_is_decoded)
{
	/* "=4D= " : an escape, then a soft break with a blank behind it */
	char msg[4096] = "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
			 "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
	for (const char *p = SECRET; *p; p++)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "=%02X= \r\n", (unsigned char)*p);
	salvage(msg);
	cr_assert(holds(SECRET));
}

Test(salvage, uuencoded_lines_in_a_text_part_are_decoded)
{
	/* uuencode of SECRET (Python's binascii.b2a_uu, 45 bytes a line) */
	salvage("MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uue\r\n\r\n"
		"M34%)3%=!4D1%3BU304Q604=%+51%4U0M4$%93$]!1\"TP,3(S-#4V-S@Y+6%B\r\n/8V1E9F=H:6IK;&UN;W!Q\r\n");
	cr_assert(holds(SECRET));
}

Test(salvage, yenc_data_is_decoded)
{
	char msg[4096] = "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n=ybegin line=128 size=60 name=x.bin\r\n";
	size_t n = strlen(msg);
	for (const char *p = SECRET; *p; p++)
		msg[n++] = (char)((unsigned char)*p + 42);
	memcpy(msg + n, "\r\n=yend size=60\r\n", 18);
	salvage(msg);
	cr_assert(holds(SECRET));
}

Test(salvage, binhex_is_reported_not_decoded)
{
	salvage("MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
		"(This file must be converted with BinHex 4.0)\r\n:!!3r2cmr2cmr2`!!!!!!&3!!!!!U`8&58N&C+$:\r\n");
	cr_assert(s.binhex);
}

Test(salvage, separators_settings_and_pgp_checksums_are_not_ambiguous)
{
	salvage("Content-Type: text/plain\r\n\r\nhello\r\n"
		"=====================================================================\r\n"
		"REVIEWS\r\n"
		"RICOCHET=/usr/local/etc/ricochet\r\nPMDIR=/tmp\r\n"
		"> =========\r\n"
		"-----BEGIN PGP SIGNATURE-----\r\n\r\n"
		"iEYEARECAAYFAjz+Ey4ACgkQkEiFRdeC/kWGPwCeLJwc5kU+dIWdYvZE4fr1DTRO\r\n"
		"HfEAnjuW22VH9mi1sPPtUuk+6yUpyABW\r\n=L1WX\r\n-----END PGP SIGNATURE-----\r\n");
	cr_assert(!s.ambiguous);
}

Test(salvage, blobs_are_bounded)
{
	/* Many distinct hidden runs: at most SALVAGE_BLOBS_MAX kept. */
	size_t cap = 200 * 200;
	char *msg = malloc(cap);
	strcpy(msg, "Content-Type: text/plain\r\n\r\n");
	for (int i = 0; i < 200; i++)
		snprintf(msg + strlen(msg), cap - strlen(msg), "%02d%s\r\n\r\n", i % 100, SECRET_B64 SECRET_B64);
	salvage(msg);
	cr_assert_leq(s.n, SALVAGE_BLOBS_MAX);
	cr_assert(s.truncated);
	free(msg);
}

Test(salvage, many_runs_that_are_no_part_end_the_salvage)
{
	/* One big text part made of short distinct base64 runs: each would
	 * make salvage search the whole part; past the search budget the
	 * salvage stops, truncated (the hidden check refuses such mail). */
	size_t runs = 60000, cap = runs * 100 + 256;
	char *msg = malloc(cap);
	size_t n = (size_t)snprintf(msg, cap, "Content-Type: text/plain\r\n\r\n");
	for (size_t i = 0; i < runs; i++)
		n += (size_t)snprintf(msg + n, cap - n, "%08zu%s\r\n\r\n", i, SECRET_B64);
	salvage(msg);
	cr_assert(s.truncated);
	cr_assert_leq(s.n, SALVAGE_BLOBS_MAX);
	free(msg);
}

Test(salvage, searching_the_view_is_bounded)
{
	/* Part 1 holds 20 000 distinct 48-byte chunks; part 2 repeats each
	 * chunk as a base64 run of its own. Every run is in the view, but
	 * further in part 1 each time: searching for all would be quadratic.
	 * The search budget stops the salvage (truncated), no blob kept. */
	size_t chunks = 20000;
	GString *data = g_string_new(NULL);
	for (size_t i = 0; i < chunks; i++)
		g_string_append_printf(data, "chunk %08zu of the bounded-search test data.\n", i);
	cr_assert_eq(data->len, chunks * 48);
	gchar *whole = g_base64_encode((const guchar *)data->str, data->len);
	GString *msg = g_string_new("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
				    "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	for (size_t i = 0, n = strlen(whole); i < n; i += 76)
		g_string_append_printf(msg, "%.76s\r\n", whole + i);
	g_string_append(msg, "--b\r\nContent-Type: text/plain\r\n\r\n");
	for (size_t i = 0; i < chunks; i++) {
		gchar *run = g_base64_encode((const guchar *)data->str + i * 48, 48);
		g_string_append_printf(msg, "%s\r\n\r\n", run);
		g_free(run);
	}
	g_string_append(msg, "--b--\r\n");
	salvage(msg->str);
	cr_assert(s.truncated);
	cr_assert_eq(s.n, 0);
	g_free(whole);
	g_string_free(data, TRUE);
	g_string_free(msg, TRUE);
}
