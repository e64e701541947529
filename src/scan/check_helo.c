/*
 * HELO/EHLO name (SCAN-4, RFC 5321 4.1.1.1 and 2.3.5): a fully qualified
 * domain name or an address literal; not our own name (a forgery spammers
 * like); an address literal must be the client's own address (which
 * also refuses a literal of ours).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "scan/scan.h"

/* FQDN: two or more labels of letters, digits and inner hyphens; the
 * top-level label not all digits. */
static bool fqdn_valid(const char *s)
{
	size_t len = strlen(s), label = 0, labels = 0;
	bool digits_only = true;
	if (len == 0 || len > 253)
		return false;
	if (s[len - 1] == '.')
		len--;  /* a trailing root dot is allowed */
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			labels++;
			if (i < len)
				digits_only = true;
			label = 0;
			continue;
		}
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (!alpha && !(c >= '0' && c <= '9') && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (alpha || c == '-')
			digits_only = false;
		label++;
	}
	return labels >= 2 && !digits_only;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]": the address, or false. */
static bool literal_address(const char *s, struct sockaddr_storage *out)
{
	size_t len = strlen(s);
	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return false;
	char text[64];
	if (len - 2 >= sizeof(text))
		return false;
	memcpy(text, s + 1, len - 2);
	text[len - 2] = '\0';
	memset(out, 0, sizeof(*out));
	if (strncasecmp(text, "IPv6:", 5) == 0) {
		out->ss_family = AF_INET6;
		return inet_pton(AF_INET6, text + 5, &((struct sockaddr_in6 *)(void *)out)->sin6_addr) == 1;
	}
	out->ss_family = AF_INET;
	return inet_pton(AF_INET, text, &((struct sockaddr_in *)(void *)out)->sin_addr) == 1;
}

static bool same_client(const struct sockaddr_storage *lit, const struct sockaddr_storage *client)
{
	if (lit->ss_family == AF_INET && client->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)lit)->sin_addr,
			      &((const struct sockaddr_in *)(const void *)client)->sin_addr, 4) == 0;
	if (lit->ss_family == AF_INET6 && client->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)lit)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)client)->sin6_addr, 16) == 0;
	if (lit->ss_family == AF_INET && client->ss_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)client)->sin6_addr;
		return IN6_IS_ADDR_V4MAPPED(a6) &&
		       memcmp(&((const struct sockaddr_in *)(const void *)lit)->sin_addr, a6->s6_addr + 12, 4) == 0;
	}
	return false;
}

static void helo_helo(struct scan_job *job)
{
	struct scan_facts *f = scan_job_facts(job);
	const struct config *c = scan_job_config(job);
	char detail[700];
	struct sockaddr_storage lit;
	if (f->helo[0] == '[') {
		if (!literal_address(f->helo, &lit)) {
			snprintf(detail, sizeof(detail), "<%s>: invalid address literal in HELO/EHLO", f->helo);
			scan_hit(job, "HELO_BAD_SYNTAX", -1, detail);
		} else if (!same_client(&lit, &f->client)) {
			snprintf(detail, sizeof(detail), "<%s>: HELO/EHLO address literal is not your address [%s]",
				 f->helo, f->client_ip);
			scan_hit(job, "HELO_LITERAL_MISMATCH", -1, detail);
		}
	} else if (!fqdn_valid(f->helo)) {
		snprintf(detail, sizeof(detail), "<%s>: HELO/EHLO needs a fully qualified domain name", f->helo);
		scan_hit(job, "HELO_BAD_SYNTAX", -1, detail);
	} else if (strcasecmp(f->helo, c->hostname) == 0) {
		snprintf(detail, sizeof(detail), "<%s>: HELO/EHLO with our own name", f->helo);
		scan_hit(job, "HELO_OURS", -1, detail);
	}
	scan_job_done(job);
}

const struct scan_check scan_check_helo = {
	.name = "helo",
	.default_reply = "550 5.7.1 Helo command rejected",
	.stage = { [SCAN_STAGE_HELO] = helo_helo },
};
