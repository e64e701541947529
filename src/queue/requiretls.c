/*
 * See requiretls.h. Runs in the queue process.
 */
#include "queue/requiretls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "util/alloc.h"

/* How far into a message TLS-Required is looked for: a header section
 * longer than this is not real mail, and the bound keeps the work per
 * delivery small (as msgview.c's Subject search). */
#define HEADER_SCAN_MAX (64u * 1024)

const char *requiretls_hop_refusal(const struct requiretls_hop *h)
{
	switch (h->kind) {
	case REQUIRETLS_HOP_ROUTE:
		return h->tls_level >= TLS_LEVEL_VERIFY ? NULL
		       : "the route's TLS policy is not verify (tls_policy or outbound_tls.level)";
	case REQUIRETLS_HOP_MX:
		return h->dane || h->mx_dnssec || h->sts_enforce
		       ? NULL : "no MTA-STS (enforce) policy and no DNSSEC-validated MX (DANE) for the destination";
	}
	return "unknown next hop";
}

void requiretls_refusal_reply(const char *why, const char *nexthop, char *buf, size_t size)
{
	snprintf(buf, size, "550 5.7.30 REQUIRETLS: %s: %s; the message must not be sent without it (RFC 8689)",
		 nexthop, why);
}

const char *requiretls_final_reply(int *code, const char *reply, char *buf, size_t size)
{
	if (*code / 100 != 4 || !strstr(reply, "4.7.5"))
		return reply;
	/* Skip the "451 4.7.5 " of the original: one code per reply. */
	const char *text = strstr(reply, "4.7.5") + 5;
	while (*text == ' ')
		text++;
	snprintf(buf, size, "550 5.7.30 REQUIRETLS: %s", text);
	*code = 550;
	return buf;
}

static bool is_wsp(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The field value that starts at msg[from] (after the colon), unfolded
 * and without its white space, is "No". */
static bool value_is_no(const char *msg, size_t len, size_t from)
{
	char word[4];
	size_t n = 0;
	bool after_word = false;   /* white space after the word began */
	for (size_t i = from; i < len; i++) {
		char ch = msg[i];
		if (ch == '\r' || ch == '\n') {
			/* a continuation line starts with white space; anything else ends the field */
			size_t next = ch == '\r' && i + 1 < len && msg[i + 1] == '\n' ? i + 2 : i + 1;
			if (next >= len || !is_wsp(msg[next]))
				break;
			i = next - 1;
			after_word = n > 0;
			continue;
		}
		if (is_wsp(ch)) {
			after_word = n > 0;
			continue;
		}
		if (n >= 2 || after_word)
			return false;  /* longer than "No", or a second word */
		word[n++] = ch;
	}
	word[n] = '\0';
	return n == 2 && strcasecmp(word, "No") == 0;
}

bool requiretls_header_says_no(const char *msg, size_t len)
{
	static const char name[] = "TLS-Required";
	const size_t name_len = sizeof(name) - 1;
	size_t pos = 0;
	while (pos < len) {
		const char *lf = memchr(msg + pos, '\n', len - pos);
		size_t line = lf ? (size_t)(lf - (msg + pos)) + 1 : len - pos;
		if (line <= 2 && (line == 1 || msg[pos] == '\r'))
			return false;  /* the empty line: the body begins */
		if (line > name_len && strncasecmp(msg + pos, name, name_len) == 0) {
			size_t colon = pos + name_len;
			while (colon < pos + line && is_wsp(msg[colon]))
				colon++;  /* obs-optional (RFC 5322 4.5.8) */
			if (colon < pos + line && msg[colon] == ':' && value_is_no(msg, len, colon + 1))
				return true;
		}
		if (!lf)
			return false;
		pos += line;
	}
	return false;
}

bool requiretls_tls_optional(int fd, const struct envelope *e)
{
	off_t avail = e->body_end - e->body_offset;
	if (avail <= 0)
		return false;
	size_t n = avail < (off_t)HEADER_SCAN_MAX ? (size_t)avail : HEADER_SCAN_MAX;
	char *head = xmalloc(n);
	bool no = pread(fd, head, n, e->body_offset) == (ssize_t)n && requiretls_header_says_no(head, n);
	free(head);
	return no;
}
