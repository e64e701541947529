/*
 * libFuzzer target: the address rewriting table (rewrite_parse(),
 * src/policy/rewrite.c; issue 14). The input is the table; every
 * left-hand side it holds, and every line as it is, is then rewritten.
 * Contract checks: a table refused reported a problem with a line number
 * inside the file; an accepted one reported none; a rewritten address is
 * not empty, has an '@' and no control byte the address did not have.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "policy/rewrite.h"

struct errs {
	unsigned n, lines;
};

static void on_error(void *arg, unsigned line, const char *problem)
{
	struct errs *e = arg;
	e->n++;
	CHECK(line >= 1 && line <= e->lines);
	CHECK(problem && problem[0] && fuzz_printable(problem));
}

static void check_apply(const struct rewrite *rw, const char *addr)
{
	char *out = rewrite_apply(rw, addr);
	if (!out)
		return;
	if (addr[0])
		CHECK(out[0] && strchr(out, '@'));
	/* The local part is kept as given (a quoted one may hold a space):
	 * the table itself must add no control byte. */
	if (fuzz_printable(addr))
		CHECK(fuzz_printable(out));
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_logs();
	const char *text = (const char *)data;
	struct errs e = { 0, 1 };
	for (size_t i = 0; i < size; i++)
		e.lines += text[i] == '\n';
	struct rewrite *rw = rewrite_parse(text, size, on_error, &e);
	CHECK(rw ? e.n == 0 : e.n > 0);
	if (!rw)
		return 0;
	for (size_t i = 0; i < rw->n; i++)
		check_apply(rw, rw->rules[i].from);
	char addr[REWRITE_LINE_MAX + 1];
	for (size_t i = 0; i < size;) {
		const char *nl = memchr(text + i, '\n', size - i);
		size_t len = (nl ? (size_t)(nl - text) : size) - i;
		snprintf(addr, sizeof(addr), "%.*s", (int)(len < REWRITE_LINE_MAX ? len : REWRITE_LINE_MAX), text + i);
		check_apply(rw, addr);
		i += len + 1;
	}
	rewrite_free(rw);
	return 0;
}
