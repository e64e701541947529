/*
 * libFuzzer target: decoding IPC messages (ipc/msg.c, and the typed
 * layouts of ipc/txn.h: END-OF-MESSAGE, scan request and result) and spool
 * files (queue/envelope.c: envelope and trailer), the formats one process
 * reads from another. A compromised smtpd or scanner controls the former;
 * a damaged disk the latter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/msg.h"
#include "ipc/txn.h"
#include "queue/envelope.h"

static struct ipc_msg m;
static struct ipc_eom eom;
static struct ipc_scan_request req;
static struct ipc_scan_result res;

/* The typed decoders: what they accept must hold their promises. */
static void typed(const uint8_t *data, size_t size)
{
	if (!ipc_msg_decode(&m, data, size))
		return;
	if (m.type == IPC_TXN_EOM && ipc_eom_decode(&m, &eom)) {
		if (eom.n_symbols > IPC_SYMBOLS_MAX)
			abort();
		for (uint32_t i = 0; i < eom.n_symbols; i++)
			if (!ipc_symbol_name_ok(eom.symbols[i].name))
				abort();
		if (strpbrk(eom.ptr, " ;()\\\r\n") || strpbrk(eom.spf_domain, " ;()\\\r\n"))
			abort();
	} else if (m.type == IPC_SCAN_REQUEST) {
		(void)ipc_scan_request_decode(&m, &req);
	} else if (m.type == IPC_SCAN_RESULT && ipc_scan_result_decode(&m, &res)) {
		size_t n = strlen(res.headers);
		if (n && (n < 2 || res.headers[n - 1] != '\n' || res.headers[n - 2] != '\r'))
			abort();
		if (res.refused && (res.reply[0] != '4' && res.reply[0] != '5'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	typed(data, size);
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
		/* The whole input as a file: the message ends where the trailer
		 * says, inside the file and after the envelope. */
		if (e.has_trailer && envelope_decode_trailer(data, size, 0, &e) &&
		    (e.body_end < e.body_offset || (size_t)e.body_end + ENVELOPE_FOOTER_SIZE > size))
			abort();
	}
	envelope_clear(&e);
	return 0;
}
