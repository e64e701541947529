/*
 * libFuzzer target: the hidden-names reader (hidden_names_collect(),
 * src/content/hidden_names.c; issue 14): every file name a broken or
 * hostile MIME message may show a mail client, read from the raw message.
 * Contract checks: at most HIDDEN_NAMES_MAX names, each non-empty,
 * NUL-terminated inside its slot, no name twice.
 */
#include <stdint.h>
#include <string.h>

#include "content/hidden_names.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_logs();
	static struct hidden_names hn;
	memset(&hn, 0xAA, sizeof(hn));
	hidden_names_collect((const char *)data, size, &hn);
	CHECK(hn.n <= HIDDEN_NAMES_MAX);
	for (size_t i = 0; i < hn.n; i++) {
		const char *name = hn.names[i];
		CHECK(memchr(name, '\0', HIDDEN_NAME_MAX) != NULL);
		CHECK(name[0] != '\0');
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(hn.names[j], name) != 0);
	}
	return 0;
}
