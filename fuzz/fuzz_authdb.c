/*
 * libFuzzer target: the credentials file (user:crypt-hash) and the
 * sender-login file (address login[,login]) as the master reads them
 * (auth_db_check_table(), the same reader auth_db_load() uses; issue 14).
 * The input, after a first byte that picks the table, is the file.
 * Contract checks: a refused file gives a reason that names the file and
 * holds no control byte (no file text reaches the message: the table
 * holds password hashes).
 */
#include <stdint.h>
#include <string.h>

#include "auth/authdb.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_quiet_logs();
	char path[64], err[512] = "";
	if (fuzz_input_path(data + 1, size - 1, path, sizeof(path)) < 0)
		return 0;
	bool senders = data[0] & 1;
	if (!auth_db_check_table(path, senders, err, sizeof(err))) {
		CHECK(strncmp(err, path, strlen(path)) == 0);
		CHECK(fuzz_printable(err));
	}
	return 0;
}
