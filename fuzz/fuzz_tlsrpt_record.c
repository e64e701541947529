/*
 * libFuzzer target: the TLS-RPT TXT record (RFC 8460 3; src/policy/
 * tlsrpt_record.c; issue 17), which comes from any domain's DNS. The
 * input is split at NUL bytes into the TXT strings of one name.
 * Contract checks: an accepted record has 1 to TLSRPT_RUA_MAX addresses,
 * each local@domain of printable ASCII without spaces, brackets, quotes,
 * commas or a second '@' (they go into an envelope and a header as they
 * are); a refused one gives a printable reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "policy/tlsrpt_record.h"

static void check_addr(const char *a)
{
	size_t n = strlen(a), ats = 0;
	CHECK(n >= 3 && n <= TLSRPT_ADDR_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		CHECK(c > ' ' && c < 0x7f && !strchr("<>,\"\\", c));
		ats += c == '@';
	}
	CHECK(ats == 1 && a[0] != '@' && a[n - 1] != '@');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *texts[16];
	size_t n;
	char *copy = fuzz_split_nul(data, size, texts, 16, &n);
	struct tlsrpt_record r;
	char why[200] = "";
	if (tlsrpt_record_pick(texts, n, &r, why, sizeof(why))) {
		CHECK(r.n_mailto >= 1 && r.n_mailto <= TLSRPT_RUA_MAX);
		for (size_t i = 0; i < r.n_mailto; i++)
			check_addr(r.mailto[i]);
	} else {
		CHECK(why[0] && fuzz_printable(why));
	}
	free(copy);
	return 0;
}
