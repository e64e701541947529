/*
 * Typed, versioned IPC messages between mailwarden processes (smtpd <->
 * queue, master <-> children). A message travels as one SOCK_SEQPACKET
 * datagram:
 *
 *   u16 type | u16 reserved (0) | u32 request id | payload ...
 *
 * The payload is a sequence of typed fields written with ipc_put_*() and
 * read back in the same order with ipc_get_*(). Every getter checks the
 * bounds; a reader that finds bytes left over, a field that runs past the
 * end, a string with a NUL in it or an unknown type treats the peer as
 * broken (fail closed: the channel is closed and the peer restarted).
 *
 * Message numbers live in ranges by direction and are never reused:
 *   1..99     any direction (hello / version check)
 *   100..199  smtpd -> queue
 *   200..299  queue -> smtpd
 *   300..399  master -> child, on the child's control channel
 *   400..499  queue -> scanner
 *   500..599  scanner -> queue
 *
 * Every channel starts with IPC_HELLO from each side (channel.c sends it
 * and checks the peer's before anything else is delivered): a peer built
 * from another version, or one that says anything before HELLO, is cut
 * off (fail closed), so two processes of different builds never parse
 * each other's layouts.
 *
 * Retired numbers (never to be used again): 103 TXN_COMMIT and 105
 * TXN_VERDICT, from when smtpd wrote the spool file and made the verdict.
 * Every message's layout is written once, as one encoder and one decoder
 * (ipc/txn.h for transactions and scans, ipc/ctl.h for the master's
 * control channel), not in comments paired by hand.
 */
#ifndef MW_IPC_MSG_H
#define MW_IPC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPC_VERSION 4    /* 2: the emergency level in EOM and SCAN_REQUEST, IPC_LEVEL;
			  * 3: IPC_SESSIONS, ipc_scan_result.malware; 4: the rehearsal in SCAN_REQUEST/RESULT */
#define IPC_MSG_MAX 65536      /* largest datagram, header included */
#define IPC_HEADER_SIZE 8
#define IPC_STRING_MAX 4096    /* longest string field */

/* IPC_TXN_FAILED's reason when the spool's file system is full (ENOSPC):
 * smtpd answers 452 4.3.1 (RFC 3463 "mail system full") instead of 451. */
#define IPC_REASON_NO_SPACE "no space left in the spool"

enum ipc_type {
	IPC_HELLO = 1,              /* u32 version */

	/* The layouts: one encoder and one decoder each in ipc/txn.h. */
	IPC_TXN_BEGIN = 100,        /* struct ipc_txn_begin: session, client, HELO, sender, SIZE, flags */
	IPC_TXN_RCPT = 101,         /* text: the recipient */
	IPC_TXN_OPEN = 102,         /* empty: envelope complete, create the spool file */
	IPC_TXN_ABORT = 104,        /* empty: drop the spool file */
	IPC_TXN_DSN = 106,          /* pair: RET, ENVID (RFC 3461), after BEGIN, only if given */
	IPC_TXN_RCPT_DSN = 107,     /* pair: NOTIFY, ORCPT of the RCPT just before, only if given */
	IPC_TXN_EOM = 108,          /* end of message: struct ipc_eom (ipc/txn.h) */
	IPC_SESSIONS = 109,         /* u32: SMTP sessions open in this smtpd now (SCAN-11 triggers) */

	IPC_TXN_OPENED = 200,       /* text: queue id; carries the write end of the message pipe */
	IPC_TXN_COMMITTED = 201,    /* text: queue id: accepted (queued or quarantined), answer 250 */
	IPC_TXN_FAILED = 202,       /* text: reason: the transaction is gone, answer 451
	                             * (452 4.3.1 when the reason is IPC_REASON_NO_SPACE) */
	IPC_SCAN_FILE = 203,        /* index, total; a scanner file's read-only descriptor, or none */
	IPC_TXN_REFUSED = 204,      /* text: reply: the verdict refuses the message, answer it */
	IPC_TXN_DISCARDED = 205,    /* text: queue id: answer 250, nothing is kept (SCAN-8 delete) */
	IPC_SPOOL_SPACE = 207,      /* u64: bytes the queue may still write on the spool (smtpd's
	                             * check at MAIL, queue/spool_space.h) */
	IPC_LEVEL = 206,            /* u32 level, u32 rehearsed level (0: none): what new sessions
				     * start under (SCAN-11) */

	IPC_MASTER_CHANNEL = 300,   /* str peer kind ("queue", "smtpd"); carries one end of a new
				     * socketpair to a process of that kind (a restarted peer) */
	IPC_MASTER_CONFIG = 301,    /* str path ("" = the embedded default): the master reloaded
				     * and checked it; load it too (the queue, on SIGHUP) */
	IPC_BAYES_SAMPLE = 302,     /* scanner to master: u32 spam, str id, u32 n, n x u64 token
				     * hashes: a message for Bayes to learn (scan.bayes_autolearn) */

	IPC_SCAN_REQUEST = 400,     /* struct ipc_scan_request (ipc/txn.h); carries the message as a
				     * sealed read-only memfd */
	IPC_SCAN_RESULT = 500,      /* struct ipc_scan_result (ipc/txn.h) */
};

/* Flags of IPC_TXN_BEGIN. */
#define IPC_TXN_F_8BITMIME 0x1u
#define IPC_TXN_F_SMTPUTF8 0x2u
#define IPC_TXN_F_REQUIRETLS 0x4u   /* MAIL FROM ... REQUIRETLS over TLS (RFC 8689) */

struct ipc_msg {
	uint16_t type;
	uint32_t reqid;
	unsigned char data[IPC_MSG_MAX];
	size_t len;        /* bytes used in data (header included) */
	size_t pos;        /* read position */
	bool bad;          /* a getter or putter ran out of bounds: the message is void */
};

bool ipc_type_known(uint16_t type);
const char *ipc_type_name(uint16_t type);

/* Writing: start, then put fields. A put that does not fit marks the message bad. */
void ipc_msg_init(struct ipc_msg *m, uint16_t type, uint32_t reqid);
void ipc_put_u32(struct ipc_msg *m, uint32_t v);
void ipc_put_u64(struct ipc_msg *m, uint64_t v);
void ipc_put_str(struct ipc_msg *m, const char *s);

/* Reading: decode the header of a received datagram (false: too short, a
 * reserved field set or an unknown type), then get fields, then
 * ipc_get_end() which is false if anything went wrong or bytes are left. */
bool ipc_msg_decode(struct ipc_msg *m, const void *buf, size_t len);
uint32_t ipc_get_u32(struct ipc_msg *m);
uint64_t ipc_get_u64(struct ipc_msg *m);
/* Returns a pointer to a NUL-terminated copy inside out (cap bytes), or
 * marks the message bad if the string is longer, holds a NUL, or is cut. */
const char *ipc_get_str(struct ipc_msg *m, char *out, size_t cap);
bool ipc_get_end(struct ipc_msg *m);

#endif
