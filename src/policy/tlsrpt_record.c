/*
 * See tlsrpt_record.h.
 */
#include "policy/tlsrpt_record.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define VERSION "v=TLSRPTv1"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 6068: the address of a "mailto:" URI (after the scheme), up to any
 * "?", percent-decoded; false unless it is a plain local@domain. */
static bool mailto_addr(const char *p, size_t len, char *out)
{
	size_t o = 0;
	bool at = false;
	for (size_t i = 0; i < len && p[i] != '?'; i++) {
		char c = p[i];
		if (c == '%') {
			if (i + 2 >= len || hexval(p[i + 1]) < 0 || hexval(p[i + 2]) < 0)
				return false;
			c = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			i += 2;
		}
		/* no controls, spaces, brackets or non-ASCII: the address goes
		 * into an envelope and a header as it is */
		if ((unsigned char)c <= ' ' || (unsigned char)c >= 0x7f || c == '<' || c == '>' || c == ',' ||
		    c == '"' || c == '\\' || o >= TLSRPT_ADDR_MAX)
			return false;
		if (c == '@') {
			if (at || o == 0)
				return false;
			at = true;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return at && out[o - 1] != '@';
}

static void trim(const char **p, const char **end)
{
	while (*p < *end && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
		(*end)--;
}

/* "rua=" value: URIs separated by commas (3: tlsrpt-rua). */
static void parse_rua(const char *p, const char *end, struct tlsrpt_record *out)
{
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *uend = comma ? comma : end, *u = p;
		trim(&u, &uend);
		size_t len = (size_t)(uend - u);
		if (len > 7 && strncasecmp(u, "mailto:", 7) == 0 && out->n_mailto < TLSRPT_RUA_MAX &&
		    mailto_addr(u + 7, len - 7, out->mailto[out->n_mailto]))
			out->n_mailto++;
		else if (len > 8 && strncasecmp(u, "https://", 8) == 0)
			out->n_https++;
		p = comma ? comma + 1 : end;
	}
}

static bool parse_record(const char *txt, struct tlsrpt_record *out)
{
	const char *p = txt + strlen(VERSION), *end = txt + strlen(txt);
	bool rua = false;
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *fend = semi ? semi : end, *f = p;
		trim(&f, &fend);
		if (fend - f > 4 && strncmp(f, "rua=", 4) == 0 && !rua) {
			rua = true;
			parse_rua(f + 4, fend, out);
		}
		p = semi ? semi + 1 : end;
	}
	return rua;
}

bool tlsrpt_record_pick(char *const *texts, size_t n, struct tlsrpt_record *out, char *why, size_t whylen)
{
	const char *rec = NULL;
	size_t found = 0;
	*out = (struct tlsrpt_record){ 0 };
	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(VERSION);
		if (strncmp(texts[i], VERSION, w) != 0)
			continue;
		/* 3: the version field comes first, then field-delim (*WSP ";") or the end */
		while (texts[i][w] == ' ' || texts[i][w] == '\t')
			w++;
		if (texts[i][w] == ';' || texts[i][w] == '\0') {
			rec = texts[i];
			found++;
		}
	}
	if (found != 1) {
		snprintf(why, whylen, found ? "more than one v=TLSRPTv1 record" : "no v=TLSRPTv1 record");
		return false;
	}
	if (!parse_record(rec, out)) {
		snprintf(why, whylen, "record without rua=");
		return false;
	}
	if (out->n_mailto == 0) {
		snprintf(why, whylen, out->n_https ? "only https: report URIs (not supported; mail only)"
						   : "no usable mailto: report URI");
		return false;
	}
	return true;
}
