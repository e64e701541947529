/*
 * libFuzzer target: the DATA decoder (smtp/body.c) and the message writer's
 * BDAT checks. The input is fed in pieces whose sizes come from the first
 * byte, as the network splits it. Contract checks: output never exceeds
 * input + 1 per call, no bare CR or LF ever reaches the output, nothing is
 * consumed past the end of data or past an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/body.h"

static void check_output(const char *out, size_t n, int *prev_cr)
{
	for (size_t i = 0; i < n; i++) {
		if (out[i] == '\n' && !*prev_cr)
			abort();   /* a bare LF reached the spool */
		if (*prev_cr && out[i] != '\n')
			abort();   /* a bare CR reached the spool */
		*prev_cr = out[i] == '\r';
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (size_t)(data[0] % 16) + 1;
	const char *in = (const char *)data + 1;
	size_t len = size - 1, pos = 0;
	struct body_decoder d;
	body_decoder_init(&d);
	char *out = malloc(step + 1);
	int prev_cr = 0;
	while (pos < len && !body_done(&d) && !body_failed(&d)) {
		size_t n = len - pos < step ? len - pos : step;
		size_t used;
		size_t o = body_decode(&d, in + pos, n, out, &used);
		if (o > n + 1 || used > n)
			abort();
		if (used < n && !body_done(&d) && !body_failed(&d))
			abort();  /* stopped early without a reason */
		check_output(out, o, &prev_cr);
		pos += used;
		if (used < n)
			break;
	}
	free(out);
	return 0;
}
