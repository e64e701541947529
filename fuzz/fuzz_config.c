/*
 * libFuzzer target: the YAML configuration loader on whole files
 * (config_load(), libfyaml underneath; issue 14). The input is the file.
 * Contract checks: a refused file reports at least one error, an accepted
 * one none; every error is one line naming the file and without control
 * bytes (the loader quotes file text with loader_show()). Files the
 * configuration names (certificates, tables, rules) are not read by
 * config_load(): the preflight does that.
 */
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_logs();
	char path[64];
	if (fuzz_input_path(data, size, path, sizeof(path)) < 0)
		return 0;
	struct config_errors errs = { 0 };
	struct config *c = config_load(path, &errs);
	CHECK(c ? errs.n == 0 : errs.n > 0);
	for (size_t i = 0; i < errs.n; i++) {
		CHECK(strstr(errs.items[i], path) != NULL || strstr(errs.items[i], "default") != NULL);
		CHECK(fuzz_printable(errs.items[i]));
	}
	config_errors_free(&errs);
	config_free(c);
	return 0;
}
