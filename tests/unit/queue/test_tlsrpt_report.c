/* The TLS-RPT report (src/queue/tlsrpt_report.c, RFC 8460 4.4 and 5.3;
 * TLS-8): the JSON per policy, gzip, the report mail. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "queue/tlsrpt_report.h"

static const struct tlsrpt_report_info info = {
	.organization = "Org \"Q\"", .contact = "postmaster@gw.test", .submitter = "mx.gw.test",
	.from = "tlsrpt@gw.test", .domain = "a.test", .day = 1796601600 /* 2026-12-07 */,
	.report_id = "20261207.1@mx.gw.test", .to = "<r@a.test>", .boundary = "b1", .message_id = "m1@gw.test",
	.now = 1796688000,
};

static const struct tlsrpt_row rows[] = {
	{ "a.test", "sts", "version: STSv1\nmode: testing", "mx.a.test", "", "", "", "", "", 3 },
	{ "a.test", "sts", "version: STSv1\nmode: testing", "mx.a.test", "certificate-expired", "mx.a.test",
	  "192.0.2.1", "198.51.100.25", "certificate has expired", 2 },
	{ "a.test", "tlsa", "3 1 1 ab", "", "validation-failure", "mx2.a.test", "192.0.2.2", "", "", 1 },
};

Test(tlsrpt_report, json_has_one_entry_per_policy)
{
	size_t len;
	char *json = tlsrpt_report_json(&info, rows, 3, &len);
	cr_assert_eq(strlen(json), len);
	cr_assert(strstr(json, "{\"organization-name\":\"Org \\\"Q\\\"\","), "%s", json);
	cr_assert(strstr(json, "\"date-range\":{\"start-datetime\":\"2026-12-07T00:00:00Z\","
			       "\"end-datetime\":\"2026-12-07T23:59:59Z\"}"), "%s", json);
	cr_assert(strstr(json, "\"report-id\":\"20261207.1@mx.gw.test\""));
	cr_assert(strstr(json, "{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
			       "\"mode: testing\"],\"policy-domain\":\"a.test\",\"mx-host\":[\"mx.a.test\"]},"
			       "\"summary\":{\"total-successful-session-count\":3,\"total-failure-session-count\":2},"
			       "\"failure-details\":[{\"result-type\":\"certificate-expired\","
			       "\"sending-mta-ip\":\"198.51.100.25\","
			       "\"receiving-mx-hostname\":\"mx.a.test\",\"receiving-ip\":\"192.0.2.1\","
			       "\"failed-session-count\":2,\"failure-reason-code\":\"certificate has expired\"}]}"),
		  "%s", json);
	cr_assert(strstr(json, "{\"policy\":{\"policy-type\":\"tlsa\",\"policy-string\":[\"3 1 1 ab\"],"
			       "\"policy-domain\":\"a.test\"},\"summary\":{\"total-successful-session-count\":0,"
			       "\"total-failure-session-count\":1}"), "%s", json);
	free(json);
}

Test(tlsrpt_report, gzip_round_trip)
{
	const char text[] = "{\"policies\":[]}\n";
	size_t gzlen;
	unsigned char *gz = tlsrpt_gzip(text, sizeof(text) - 1, &gzlen);
	cr_assert_not_null(gz);
	cr_assert(gzlen > 18 && gz[0] == 0x1f && gz[1] == 0x8b, "a gzip member (RFC 1952)");
	char back[100];
	z_stream zs = { .next_in = gz, .avail_in = (uInt)gzlen, .next_out = (Bytef *)back,
			.avail_out = sizeof(back) };
	cr_assert_eq(inflateInit2(&zs, 15 + 16), Z_OK);
	cr_assert_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
	cr_assert_eq(zs.total_out, sizeof(text) - 1);
	cr_assert(memcmp(back, text, sizeof(text) - 1) == 0);
	inflateEnd(&zs);
	free(gz);
}

Test(tlsrpt_report, mail_as_rfc8460_5_3)
{
	unsigned char gz[100];
	memset(gz, 0xee, sizeof(gz));
	size_t len;
	char *mail = tlsrpt_report_mail(&info, gz, sizeof(gz), &len);
	cr_assert(strstr(mail, "\r\nSubject: Report Domain: a.test Submitter: mx.gw.test Report-ID: "
			       "<20261207.1@mx.gw.test>\r\n"), "%s", mail);
	cr_assert(strstr(mail, "\r\nTLS-Report-Domain: a.test\r\nTLS-Report-Submitter: mx.gw.test\r\n"));
	cr_assert(strstr(mail, "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"b1\""));
	cr_assert(strstr(mail, "--b1\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64"));
	cr_assert(strstr(mail, "filename=\"mx.gw.test!a.test!1796601600!1796687999!20261207.1@mx.gw.test.json.gz\""));
	/* 100 bytes: 76 characters, then the rest */
	cr_assert(strstr(mail, "\r\n7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u\r\n"));
	cr_assert(strstr(mail, "\r\n--b1--\r\n"));
	for (size_t i = 0; i + 1 < len; i++)
		if (mail[i + 1] == '\n')
			cr_assert_eq(mail[i], '\r', "CRLF lines only");
	free(mail);
}
