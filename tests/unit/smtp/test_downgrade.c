/*
 * Unit tests for smtp/downgrade.c: 8-bit MIME to 7-bit for a next hop
 * without 8BITMIME (RFC 6152 3; issue 16 item 11).
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/downgrade.h"

static char *convert(const char *msg, enum downgrade_status want)
{
	char *out = NULL, why[200] = "";
	size_t n = 0;
	enum downgrade_status st = downgrade_message(msg, strlen(msg), &out, &n, why, sizeof(why));
	cr_assert_eq(st, want, "status %d (%s)", st, why);
	if (st != DOWNGRADE_OK)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		cr_assert_lt((unsigned char)out[i], 0x80, "8-bit byte at %zu", i);
		if (out[i] == '\n')
			cr_assert(i > 0 && out[i - 1] == '\r', "bare LF at %zu", i);
	}
	char *s = malloc(n + 1);
	memcpy(s, out, n);
	s[n] = '\0';
	free(out);
	return s;
}

Test(downgrade, an_8bit_text_part_becomes_quoted_printable)
{
	char *s = convert("From: a@b.test\r\nMIME-Version: 1.0\r\n"
			  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
			  "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\r\n",
			  DOWNGRADE_OK);
	cr_assert(strstr(s, "Content-Transfer-Encoding: quoted-printable\r\n"), "%s", s);
	cr_assert(strstr(s, "Gr=C3=BC=C3=9Fe aus K=C3=B6ln\r\n"), "%s", s);
	cr_assert_null(strstr(s, "8bit"), "%s", s);
	free(s);
}

Test(downgrade, a_non_mime_8bit_message_gets_a_mime_version)
{
	char *s = convert("From: a@b.test\r\nSubject: x\r\n\r\ncaf\xc3\xa9\r\n", DOWNGRADE_OK);
	cr_assert(strstr(s, "MIME-Version: 1.0\r\n"), "%s", s);
	cr_assert(strstr(s, "Content-Transfer-Encoding: quoted-printable\r\n"), "%s", s);
	cr_assert(strstr(s, "caf=C3=A9"), "%s", s);
	free(s);
}

Test(downgrade, an_8bit_attachment_becomes_base64_and_7bit_parts_stay)
{
	char *s = convert("From: a@b.test\r\nMIME-Version: 1.0\r\n"
			  "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
			  "--XX\r\nContent-Type: text/plain\r\n\r\nplain ascii\r\n"
			  "--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
			  "\xff\xfe\r\n\xfd\r\n"
			  "--XX--\r\n",
			  DOWNGRADE_OK);
	cr_assert(strstr(s, "plain ascii\r\n"), "%s", s);
	cr_assert(strstr(s, "Content-Transfer-Encoding: base64\r\n"), "%s", s);
	cr_assert(strstr(s, "//4NCv0="), "%s", s);   /* ff fe CR LF fd: its CRLF kept */
	free(s);
}

Test(downgrade, a_forwarded_8bit_message_is_converted_inside)
{
	char *s = convert("From: a@b.test\r\nMIME-Version: 1.0\r\n"
			  "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
			  "From: c@d.test\r\nContent-Type: text/plain; charset=utf-8\r\n"
			  "Content-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9\r\n",
			  DOWNGRADE_OK);
	cr_assert(strstr(s, "Content-Transfer-Encoding: 7bit\r\n"), "%s", s);
	cr_assert(strstr(s, "=C3=A9t=C3=A9"), "%s", s);
	free(s);
}

Test(downgrade, an_8bit_header_cannot_be_converted)
{
	convert("From: a@b.test\r\nSubject: K\xc3\xb6ln\r\n\r\nascii\r\n", DOWNGRADE_IMPOSSIBLE);
}
