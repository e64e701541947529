/*
 * Layouts of the transaction messages with more than a field or two: one
 * encoder and one decoder each, so sender and receiver cannot disagree.
 * A decoder returns false for a message that is short, has bytes left
 * over, or holds a value out of range: the receiver treats the peer as
 * broken (fail closed).
 */
#ifndef MW_IPC_TXN_H
#define MW_IPC_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/msg.h"

#define IPC_SYMBOLS_MAX 64
#define IPC_SYMBOL_NAME_MAX 31

struct ipc_symbol {
	char name[IPC_SYMBOL_NAME_MAX + 1];   /* upper case, digits, '_' */
	int32_t points;
};

/* IPC_TXN_EOM: smtpd has written the whole message into the pipe. What it
 * learnt in the dialogue comes along for the queue's verdict; smtpd makes
 * no decision about the message itself. */
struct ipc_eom {
	uint64_t size;              /* bytes written into the pipe */
	bool outbound;              /* trusted network or AUTH: the outbound policy (SCAN-1) */
	char iprev[16], ptr[256];   /* RFC 8601 iprev result ("" = not checked) and PTR name */
	char spf[16], spf_domain[256];
	uint32_t n_symbols;         /* SMTP-time hits that score (not those that refused) */
	struct ipc_symbol symbols[IPC_SYMBOLS_MAX];
};

void ipc_eom_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_eom *e);
bool ipc_eom_decode(struct ipc_msg *m, struct ipc_eom *e);

/* IPC_SCAN_REQUEST: scan this message (the descriptor: a sealed memfd
 * holding exactly size bytes, as received). */
struct ipc_scan_request {
	bool outbound;              /* which direction's content policy applies */
	uint64_t size;
	char queue_id[17];          /* for the scanner's log lines */
};

void ipc_scan_request_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_scan_request *r);
bool ipc_scan_request_decode(struct ipc_msg *m, struct ipc_scan_request *r);

#define IPC_SCAN_HEADERS_MAX 2048

/* IPC_SCAN_RESULT: what the content checks found. */
struct ipc_scan_result {
	uint32_t n_symbols;
	struct ipc_symbol symbols[IPC_SYMBOLS_MAX];
	bool refused;               /* a check whose policy is refuse hit */
	char reply[512];            /* its reply, when refused */
	char headers[IPC_SCAN_HEADERS_MAX + 1];  /* header lines to add, CRLF-terminated, or "" */
};

void ipc_scan_result_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_scan_result *r);
bool ipc_scan_result_decode(struct ipc_msg *m, struct ipc_scan_result *r);

/* A symbol name as the verdict accepts it. */
bool ipc_symbol_name_ok(const char *s);

#endif
