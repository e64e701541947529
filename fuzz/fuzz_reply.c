/*
 * libFuzzer target: the outbound client's reply reader
 * (reply_read_line(), src/smtp/reply_reader.c; issue 14), what a hostile
 * next hop's multi-line replies and EHLO capabilities reach. client.c
 * reads lines with libevent and hands each to this pure function; the
 * target does the same with the input split at LF. The first byte says
 * whether the replies answer EHLO. Contract checks: a complete reply has
 * a code 100-599 and printable text starting with it; no reply has more
 * than REPLY_LINES_MAX lines; capabilities are non-empty, without a space
 * and NUL-terminated in their slot; nothing is read after a malformed
 * line (the client drops the connection).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_check.h"
#include "smtp/reply_reader.h"

static void check_reply(const struct reply_reader *r)
{
	CHECK(r->code >= 100 && r->code <= 599);
	char code[4];
	snprintf(code, sizeof(code), "%d", r->code);
	CHECK(strncmp(r->text, code, 3) == 0 && fuzz_printable(r->text));
	CHECK(r->n_caps <= REPLY_LINES_MAX);
	for (unsigned i = 0; i < r->n_caps; i++) {
		CHECK(memchr(r->caps[i], '\0', sizeof(r->caps[i])) != NULL);
		CHECK(r->caps[i][0] && !strchr(r->caps[i], ' '));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool ehlo = data[0] & 1;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	static struct reply_reader r;
	memset(&r, 0, sizeof(r));
	unsigned long long size_max = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(in + i, '\n', len - i);
		if (!nl)
			break;  /* an incomplete line waits for more input */
		size_t n = (size_t)(nl - in) - i;
		char *line = malloc(n + 1);  /* evbuffer_readln's copy */
		memcpy(line, in + i, n);
		line[n] = '\0';
		enum reply_step step = reply_read_line(&r, line, n, ehlo, &size_max);
		free(line);
		if (step == REPLY_MALFORMED)
			break;
		CHECK(r.lines <= REPLY_LINES_MAX);
		if (step == REPLY_LAST) {
			CHECK(r.lines == 0);
			check_reply(&r);
		}
		i += n + 1;
	}
	CHECK(size_max < (1ULL << 50) * 10 + 10);
	return 0;
}
