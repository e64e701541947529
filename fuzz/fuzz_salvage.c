/*
 * libFuzzer target: the salvage view (salvage_collect(),
 * src/content/salvage.c; issue 14): the encoded data a broken message
 * holds outside the parts GMime sees, decoded for the scanners. The input
 * is the message; the MIME view is parsed first (mime_parse(), default
 * limits) as the scanner's job does. Contract checks: at most
 * SALVAGE_BLOBS_MAX blobs, the bytes counted equal the blobs' lengths
 * and stay within SALVAGE_BYTES_MAX, each blob at least SALVAGE_BLOB_MIN
 * bytes long and with a NUL-terminated description.
 */
#include <stdint.h>
#include <string.h>

#include "content/mime.h"
#include "content/salvage.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		mime_prepare();
		fuzz_quiet_logs();
		ready = 1;
	}
	const char *msg = (const char *)data;
	struct mime_message m;
	mime_parse(msg, size, &mime_default_limits, &m);  /* a failed parse is a view too */
	struct salvage s;
	memset(&s, 0, sizeof(s));
	salvage_collect(msg, size, &m, &s);
	CHECK(s.n <= SALVAGE_BLOBS_MAX && s.bytes <= SALVAGE_BYTES_MAX);
	size_t total = 0;
	for (size_t i = 0; i < s.n; i++) {
		CHECK(s.blobs[i].data && s.blobs[i].len >= SALVAGE_BLOB_MIN);
		CHECK(memchr(s.blobs[i].how, '\0', sizeof(s.blobs[i].how)) != NULL);
		total += s.blobs[i].len;
	}
	CHECK(total == s.bytes);
	salvage_free(&s);
	mime_free(&m);
	return 0;
}
