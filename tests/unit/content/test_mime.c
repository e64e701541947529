/* The MIME view of content checks (content/mime.h; issue 11): leaf parts
 * decoded (base64, quoted-printable, charsets to UTF-8), file names as
 * decoded, and every limit or malformation a problem bit — never a crash
 * or an unbounded allocation. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/mime.h"

static struct mime_message m;

static void parse(const char *msg, const struct mime_limits *lim)
{
	mime_parse(msg, strlen(msg), lim ? lim : &mime_default_limits, &m);
}

static void done(void)
{
	mime_free(&m);
}

TestSuite(mime, .fini = done);

Test(mime, quoted_printable_latin1_becomes_utf8)
{
	parse("Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
	      "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe, na=\r\nive\r\n", NULL);
	cr_assert_eq(m.n_parts, 1);
	cr_assert_str_eq(m.parts[0].type, "text/plain");
	cr_assert_str_eq(m.parts[0].data, "Gr\xc3\xbc\xc3\x9f" "e, naive\r\n");
	cr_assert_eq(m.problems, 0);
}

Test(mime, attachment_is_decoded_with_its_rfc2231_name)
{
	parse("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
	      "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
	      "--b1\r\nContent-Type: Application/PDF\r\n"
	      "Content-Disposition: attachment; filename*=UTF-8''na%C3%AFve.pdf\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n", NULL);
	cr_assert_eq(m.n_parts, 2);
	cr_assert_not(m.parts[0].attachment);
	cr_assert_str_eq(m.parts[1].type, "application/pdf");
	cr_assert(m.parts[1].attachment);
	cr_assert_str_eq(m.parts[1].filename, "na\xc3\xafve.pdf");
	cr_assert_eq(m.parts[1].len, 9);
	cr_assert_eq(memcmp(m.parts[1].data, "%PDF-1.4\n", 9), 0);
	cr_assert_eq(m.parts[1].depth, 1);
}

/* n multiparts, each inside the last. */
static char *nested(int n)
{
	size_t cap = (size_t)n * 120 + 200, used = 0;
	char *s = malloc(cap);
	used += (size_t)snprintf(s, cap, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
	for (int i = 1; i <= n; i++)
		used += (size_t)snprintf(s + used, cap - used, "--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n",
					 i - 1, i);
	used += (size_t)snprintf(s + used, cap - used, "--b%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n", n);
	for (int i = n; i >= 0; i--)
		used += (size_t)snprintf(s + used, cap - used, "--b%d--\r\n", i);
	return s;
}

Test(mime, nesting_beyond_the_limit_is_a_problem_not_a_crash)
{
	char *msg = nested(40);
	parse(msg, NULL);
	cr_assert(m.problems & MIME_TOO_DEEP);
	cr_assert_eq(m.n_parts, 0, "the deep part lies beyond the limit");
	free(msg);
	mime_free(&m);
	msg = nested(5);
	parse(msg, NULL);
	cr_assert_eq(m.problems & MIME_TOO_DEEP, 0);
	cr_assert_eq(m.n_parts, 1);
	cr_assert_str_eq(m.parts[0].data, "deep", "the CRLF before a boundary belongs to the boundary");
	free(msg);
}

Test(mime, more_parts_than_the_limit)
{
	size_t cap = 64 * 1024, used = 0;
	char *s = malloc(cap);
	used += (size_t)snprintf(s, cap, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
	for (int i = 0; i < 50; i++)
		used += (size_t)snprintf(s + used, cap - used, "--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
	snprintf(s + used, cap - used, "--b--\r\n");
	struct mime_limits lim = mime_default_limits;
	lim.max_parts = 20;
	parse(s, &lim);
	cr_assert_eq(m.n_parts, 20);
	cr_assert(m.problems & MIME_TOO_MANY_PARTS);
	free(s);
}

Test(mime, decoded_bytes_beyond_a_limit_are_cut_and_flagged)
{
	struct mime_limits lim = mime_default_limits;
	lim.max_part_bytes = 4;
	parse("Content-Type: text/plain\r\n\r\n0123456789\r\n", &lim);
	cr_assert_eq(m.n_parts, 1);
	cr_assert_eq(m.parts[0].len, 4);
	cr_assert(m.parts[0].truncated);
	cr_assert(m.problems & MIME_TOO_LARGE);
	mime_free(&m);
	lim = mime_default_limits;
	lim.max_total_bytes = 12;
	parse("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n0123456789\r\n"
	      "--b\r\n\r\nabcdefghij\r\n--b--\r\n", &lim);
	cr_assert_eq(m.n_parts, 2);
	cr_assert_eq(m.parts[0].len + m.parts[1].len, 12);
	cr_assert(m.problems & MIME_TOO_LARGE);
}

Test(mime, multipart_without_boundary_and_unknown_charset)
{
	parse("MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n", NULL);
	cr_assert(m.problems & MIME_NO_BOUNDARY, "problems %#x", m.problems);
	mime_free(&m);
	parse("Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nhi\r\n", NULL);
	cr_assert(m.problems & MIME_BAD_CHARSET, "problems %#x", m.problems);
	cr_assert_str_eq(m.parts[0].data, "hi\r\n", "kept as it came");
}

Test(mime, unterminated_multipart_is_malformed)
{
	parse("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nno end\r\n", NULL);
	cr_assert(m.problems & MIME_MALFORMED, "problems %#x", m.problems);
	cr_assert_eq(m.n_parts, 1);
}

Test(mime, garbage_is_survived)
{
	char junk[4096];
	srand(7);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk) - 1; i++)
			junk[i] = "-\r\n:;=\" bBaContent-Type multipart/mixed boundary"[rand() % 48];
		junk[sizeof(junk) - 1] = '\0';
		parse(junk, NULL);
		mime_free(&m);
	}
}

/* GMime builds an object per header field and per part (hundreds of bytes
 * each) before our limits apply: 25 MB of "a:b" lines or "--b" lines cost
 * gigabytes. GMime gets the message only up to the limits' line. */
Test(mime, field_and_boundary_lines_beyond_a_limit_are_not_given_to_gmime)
{
	struct mime_limits lim = mime_default_limits;
	lim.max_field_lines = 10;
	char *s = malloc(64 * 1024);
	size_t used = 0;
	for (int i = 0; i < 30; i++)
		used += (size_t)sprintf(s + used, "X-%d: v\r\n", i);
	sprintf(s + used, "\r\nbody\r\n");
	parse(s, &lim);
	cr_assert(m.problems & MIME_TOO_MANY_PARTS, "30 fields, 10 allowed");
	mime_free(&m);
	/* An empty name, 8-bit names and white space before the colon are
	 * fields to GMime: they count. */
	parse(":a\r\n:b\r\n\xc3\xa9:c\r\nx :d\r\nX-1: v\r\nX-2: v\r\nX-3: v\r\nX-4: v\r\nX-5: v\r\nX-6: v\r\n"
	      "X-7: v\r\n\r\nbody\r\n", &lim);
	cr_assert(m.problems & MIME_TOO_MANY_PARTS);
	mime_free(&m);

	lim = mime_default_limits;
	lim.max_dash_lines = 5;
	used = (size_t)sprintf(s, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (int i = 0; i < 20; i++)
		used += (size_t)sprintf(s + used, "--b\r\n\r\npart %d\r\n", i);
	sprintf(s + used, "--b--\r\n");
	parse(s, &lim);
	cr_assert_leq(m.n_parts, 5);
	cr_assert(m.problems & MIME_TOO_MANY_PARTS);
	mime_free(&m);

	/* Under the default limits, text with some "--" and "word:" lines is
	 * parsed whole. */
	used = (size_t)sprintf(s, "Subject: x\r\n\r\n");
	for (int i = 0; i < 1000; i++)
		used += (size_t)sprintf(s + used, "-- \r\nNote: %d\r\n", i);
	parse(s, NULL);
	cr_assert_not(m.problems & MIME_TOO_MANY_PARTS);
	cr_assert_eq(m.n_parts, 1);
	cr_assert_eq(m.parts[0].len, used - 14);
	free(s);
}

/* MIME_QP_LONG_LINE (check_for_mime('mime_qp_long_line'), SCAN-5): an
 * encoded quoted-printable line over 78 bytes, line end not counted. */
Test(mime, quoted_printable_lines_over_78_bytes_are_long)
{
	char msg[1024], line[100];
	memset(line, 'a', 79);
	line[79] = '\0';
	snprintf(msg, sizeof(msg),
		 "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		 "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
		 "short\r\n%.78s\r\n"
		 "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n"
		 "--b\r\nContent-Type: text/plain\r\n\r\n%s%s\r\n--b--\r\n",
		 line, line, line, line);
	parse(msg, NULL);
	cr_assert_eq(m.n_parts, 3);
	cr_assert_not(m.parts[0].qp_long_line, "78 bytes and a CRLF are within the limit");
	cr_assert(m.parts[1].qp_long_line, "79 bytes");
	cr_assert_not(m.parts[2].qp_long_line, "not quoted-printable");
}
