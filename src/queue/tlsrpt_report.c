/*
 * See tlsrpt_report.h.
 */
#include "queue/tlsrpt_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "util/alloc.h"
#include "util/json.h"

#define DAY_SECONDS 86400

static void iso_time(char *buf, size_t cap, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* lines ('\n' between them) as a JSON array of strings */
static void put_lines(FILE *out, const char *lines)
{
	fputc('[', out);
	const char *p = lines;
	bool first = true;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *one = xmalloc(n + 1);
		memcpy(one, p, n);
		one[n] = '\0';
		fputs(first ? "" : ",", out);
		json_put_str(out, one);
		free(one);
		first = false;
		p += n + (nl ? 1 : 0);
	}
	fputc(']', out);
}

static bool same_policy(const struct tlsrpt_row *a, const struct tlsrpt_row *b)
{
	return strcmp(a->policy_type, b->policy_type) == 0 && strcmp(a->policy_string, b->policy_string) == 0 &&
	       strcmp(a->mx_host, b->mx_host) == 0;
}

/* 4.4 "failure-details": one entry per distinct failure */
static void put_failure(FILE *out, const struct tlsrpt_row *r, bool first)
{
	fputs(first ? "{" : ",{", out);
	fputs("\"result-type\":", out);
	json_put_str(out, r->result);
	if (r->sending_ip[0]) {
		fputs(",\"sending-mta-ip\":", out);
		json_put_str(out, r->sending_ip);
	}
	if (r->receiving_mx[0]) {
		fputs(",\"receiving-mx-hostname\":", out);
		json_put_str(out, r->receiving_mx);
	}
	if (r->receiving_ip[0]) {
		fputs(",\"receiving-ip\":", out);
		json_put_str(out, r->receiving_ip);
	}
	fprintf(out, ",\"failed-session-count\":%llu", r->count);
	if (r->reason[0]) {
		fputs(",\"failure-reason-code\":", out);
		json_put_str(out, r->reason);
	}
	fputc('}', out);
}

/* One "policies" entry from rows[0..n), which share their policy. */
static void put_policy(FILE *out, const char *domain, const struct tlsrpt_row *rows, size_t n)
{
	unsigned long long ok = 0, failed = 0;
	for (size_t i = 0; i < n; i++)
		*(rows[i].result[0] ? &failed : &ok) += rows[i].count;
	fputs("{\"policy\":{\"policy-type\":", out);
	json_put_str(out, rows[0].policy_type);
	if (rows[0].policy_string[0]) {
		fputs(",\"policy-string\":", out);
		put_lines(out, rows[0].policy_string);
	}
	fputs(",\"policy-domain\":", out);
	json_put_str(out, domain);
	if (rows[0].mx_host[0]) {
		fputs(",\"mx-host\":", out);
		put_lines(out, rows[0].mx_host);
	}
	fprintf(out, "},\"summary\":{\"total-successful-session-count\":%llu,\"total-failure-session-count\":%llu}",
		ok, failed);
	if (failed > 0) {
		fputs(",\"failure-details\":[", out);
		bool first = true;
		for (size_t i = 0; i < n; i++)
			if (rows[i].result[0]) {
				put_failure(out, &rows[i], first);
				first = false;
			}
		fputc(']', out);
	}
	fputc('}', out);
}

char *tlsrpt_report_json(const struct tlsrpt_report_info *info, const struct tlsrpt_row *rows, size_t n,
			 size_t *len)
{
	char *text = NULL, start[32], end[32];
	FILE *out = open_memstream(&text, len);
	if (!out)
		abort();  /* no memory: as xmalloc */
	iso_time(start, sizeof(start), info->day);
	iso_time(end, sizeof(end), info->day + DAY_SECONDS - 1);
	fputs("{\"organization-name\":", out);
	json_put_str(out, info->organization);
	fprintf(out, ",\"date-range\":{\"start-datetime\":\"%s\",\"end-datetime\":\"%s\"}", start, end);
	fputs(",\"contact-info\":", out);
	json_put_str(out, info->contact);
	fputs(",\"report-id\":", out);
	json_put_str(out, info->report_id);
	fputs(",\"policies\":[", out);
	for (size_t i = 0; i < n;) {
		size_t k = i + 1;
		while (k < n && same_policy(&rows[i], &rows[k]))
			k++;
		fputs(i ? "," : "", out);
		put_policy(out, info->domain, rows + i, k - i);
		i = k;
	}
	fputs("]}\n", out);
	if (fclose(out) != 0)
		abort();
	return text;
}

unsigned char *tlsrpt_gzip(const char *data, size_t len, size_t *out_len)
{
	z_stream zs = { 0 };
	/* windowBits 15 + 16: a gzip header and trailer, not zlib's */
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&zs, (uLong)len) + 32;
	unsigned char *gz = xmalloc(cap);
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	zs.next_out = gz;
	zs.avail_out = (uInt)cap;
	int rc = deflate(&zs, Z_FINISH);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(gz);
		return NULL;
	}
	return gz;
}

static void put_base64(FILE *out, const unsigned char *p, size_t len)
{
	unsigned char line[80];
	for (size_t i = 0; i < len; i += 57) {  /* 57 bytes: 76 characters a line */
		size_t n = len - i < 57 ? len - i : 57;
		int w = EVP_EncodeBlock(line, p + i, (int)n);
		fwrite(line, 1, (size_t)w, out);
		fputs("\r\n", out);
	}
}

char *tlsrpt_report_mail(const struct tlsrpt_report_info *info, const unsigned char *gz, size_t gzlen, size_t *len)
{
	char *text = NULL, date[64];
	struct tm tm;
	FILE *out = open_memstream(&text, len);
	if (!out)
		abort();
	gmtime_r(&info->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	fprintf(out, "From: <%s>\r\n", info->from);
	fprintf(out, "To: %s\r\n", info->to);
	fprintf(out, "Date: %s\r\n", date);
	fprintf(out, "Message-ID: <%s>\r\n", info->message_id);
	/* 5.3: this Subject, and the two TLS-Report headers */
	fprintf(out, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n", info->domain, info->submitter,
		info->report_id);
	fprintf(out, "TLS-Report-Domain: %s\r\n", info->domain);
	fprintf(out, "TLS-Report-Submitter: %s\r\n", info->submitter);
	fputs("Auto-Submitted: auto-generated\r\n", out);
	fputs("MIME-Version: 1.0\r\n", out);
	fprintf(out, "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"%s\"\r\n", info->boundary);
	fputs("\r\nThis is a multipart message in MIME format.\r\n\r\n", out);
	fprintf(out, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
		info->boundary);
	fprintf(out, "This is an aggregate TLS report (RFC 8460) from %s\r\nfor %s.\r\n\r\n", info->submitter,
		info->domain);
	/* 5.3: sender!policy-domain!begin-timestamp!end-timestamp!unique-id */
	fprintf(out, "--%s\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n"
		     "Content-Disposition: attachment;\r\n\tfilename=\"%s!%s!%lld!%lld!%s.json.gz\"\r\n\r\n",
		info->boundary, info->submitter, info->domain, (long long)info->day,
		(long long)info->day + DAY_SECONDS - 1, info->report_id);
	put_base64(out, gz, gzlen);
	fprintf(out, "\r\n--%s--\r\n", info->boundary);
	if (fclose(out) != 0)
		abort();
	return text;
}
