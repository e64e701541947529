/*
 * libFuzzer target: decoding IPC messages (ipc/msg.c) and spool envelopes
 * (queue/envelope.c), the two formats one process reads from another.
 * A compromised smtpd controls the former; a damaged disk the latter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/msg.h"
#include "queue/envelope.h"

static struct ipc_msg m;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ipc_msg_decode(&m, data, size)) {
		char s[IPC_STRING_MAX + 1];
		/* Read as every field shape a handler might use. */
		for (int i = 0; i < 8 && !m.bad; i++) {
			switch ((data[size - 1] >> (i % 4)) & 3) {
			case 0: ipc_get_u32(&m); break;
			case 1: ipc_get_u64(&m); break;
			default: {
				const char *str = ipc_get_str(&m, s, sizeof(s));
				if (!m.bad && strlen(str) > IPC_STRING_MAX)
					abort();
			}
			}
		}
		(void)ipc_get_end(&m);
	}
	struct envelope e = { 0 };
	if (envelope_decode(data, size, &e)) {
		if (e.body_offset > (off_t)size || e.n_rcpts == 0 || !e.sender)
			abort();
		for (size_t i = 0; i < e.n_rcpts; i++)
			if (e.rcpts[i].status_offset >= (off_t)size)
				abort();
	}
	envelope_clear(&e);
	return 0;
}
