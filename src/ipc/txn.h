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

/* A symbol's points are in hundredths of a point (verdict/points.h:
 * 250 = 2.5 points), within +-IPC_SYMBOL_POINTS_MAX (1000 points, the
 * configuration's and the rules' limit); the decoders refuse more, so no
 * sum of symbols can overflow. */
#define IPC_SYMBOL_POINTS_MAX 100000

struct ipc_symbol {
	char name[IPC_SYMBOL_NAME_MAX + 1];   /* upper case, digits, '_' */
	int32_t points;                       /* hundredths */
};

/* IPC_TXN_EOM: smtpd has written the whole message into the pipe. What it
 * learnt in the dialogue comes along for the queue's verdict; smtpd makes
 * no decision about the message itself. */
struct ipc_eom {
	uint64_t size;              /* bytes written into the pipe */
	bool outbound;              /* trusted network or AUTH: the outbound policy (SCAN-1) */
	char iprev[16], ptr[256];   /* RFC 8601 iprev result ("" = not checked) and PTR name */
	char spf[16], spf_domain[256];
	char auth[256];             /* the AUTH login, "" if none (REL-3) */
	uint32_t n_symbols;         /* SMTP-time hits that score (not those that refused) */
	struct ipc_symbol symbols[IPC_SYMBOLS_MAX];
	uint32_t level;             /* SCAN-11: the emergency level the session started under */
	uint32_t rehearse;          /* the level it rehearsed (0: none) ... */
	char rehearsal[64];         /* ... and the limit that level would have refused it by ("" none) */
};

void ipc_eom_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_eom *e);
bool ipc_eom_decode(struct ipc_msg *m, struct ipc_eom *e);

/* IPC_SCAN_REQUEST: scan this message (the descriptor: a sealed memfd
 * holding exactly size bytes, as received). */
#define IPC_SCAN_RCPTS_MAX 32
#define IPC_ADDRESS_MAX 512

struct ipc_scan_request {
	bool outbound;              /* which direction's content policy applies */
	uint32_t level;             /* SCAN-11: ... of which emergency level (the session's) */
	uint32_t rehearse;          /* the level the session rehearsed (0: none): its check actions judged too */
	uint64_t size;
	char queue_id[17];          /* for the scanner's log lines */
	/* The envelope and what the dialogue found, for checks that need
	 * them (DMARC: the sender; header binding: the login; Bayes: the
	 * symbols). Recipients: their number, and the first few. */
	char client[64], helo[256], sender[IPC_ADDRESS_MAX], auth[256];
	char spf[16], spf_domain[256];  /* smtpd's SPF result, for DMARC (tokens, "" = not checked) */
	uint32_t n_rcpts, n_listed;
	char rcpts[IPC_SCAN_RCPTS_MAX][IPC_ADDRESS_MAX];
	uint32_t n_symbols;
	struct ipc_symbol symbols[IPC_SYMBOLS_MAX];
};

void ipc_scan_request_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_scan_request *r);
bool ipc_scan_request_decode(struct ipc_msg *m, struct ipc_scan_request *r);

#define IPC_SCAN_HEADERS_MAX 2048
/* The scanner's results for Authentication-Results (DKIM, DMARC). */
#define IPC_SCAN_AUTH_MAX 1024

/* How much a rewritten message may grow over the one that was scanned
 * (room for a notice that replaces a stripped part, SCAN-8). */
#define IPC_SCAN_REWRITE_GROWTH (64 * 1024)
#define IPC_HOLD_DETAIL_MAX 255

/* IPC_SCAN_RESULT: what the content checks found. With rewritten set,
 * the message passes a sealed memfd holding the message to store instead
 * of the one received (rewritten_size bytes, at most the scanned size +
 * IPC_SCAN_REWRITE_GROWTH). */
struct ipc_scan_result {
	uint32_t n_symbols;
	struct ipc_symbol symbols[IPC_SYMBOLS_MAX];
	bool refused;               /* a check whose policy is refuse hit */
	char reply[512];            /* its reply, when refused */
	char headers[IPC_SCAN_HEADERS_MAX + 1];  /* header lines to add, CRLF-terminated, or "" */
	/* RFC 8601 results the scanner checked, "method=result prop=value"
	 * each, separated by ";" ("dkim=pass header.d=example.org; dmarc=pass
	 * header.from=example.org"), or "": printable ASCII, no line breaks and
	 * no comment characters but the "(p=...)" the encoder writes; the
	 * queue folds them into its one Authentication-Results field. */
	char auth_results[IPC_SCAN_AUTH_MAX + 1];
	bool rewritten;
	uint64_t rewritten_size;
	/* The rewrite is the strip action's (SCAN-8): parts were replaced by
	 * notices, so the queue delivers it and keeps the original in
	 * quarantine, releasable. On the wire: rewritten = 2. */
	bool stripped;
	/* Hold in quarantine whatever the score (IPC_HOLD_*): a check's own
	 * policy says so (scan.encryption, SCAN-10), or a malware engine
	 * found something in outbound mail (SCAN-9: held, and the queue
	 * raises the alarm). A refusal by another check still wins. */
	uint32_t hold;
	char hold_detail[IPC_HOLD_DETAIL_MAX + 1];  /* what was found, printable ASCII; "" without hold */
	/* A malware engine found something, whatever its check's action
	 * made of it (a refusal adds no symbol): the emergency trigger's
	 * malware share counts it (SCAN-11). */
	bool malware;
	/* SCAN-11 rehearsal: what the rehearsed level's check actions would
	 * have done where the level in force's did less (IPC_REHEARSED_*),
	 * and by which check ("content.attachments"; "" with NONE). */
	uint32_t rehearsed;
	char rehearsed_by[48];
	/* Header lines for the message as it arrived, kept with it in
	 * quarantine and added only when it is released: our DKIM signature
	 * over the original, since the one in headers was made over what a
	 * rewrite (the strip action) delivered. CRLF-terminated, or "". */
	char release_headers[IPC_SCAN_HEADERS_MAX + 1];
};

enum { IPC_REHEARSED_NONE, IPC_REHEARSED_QUARANTINE, IPC_REHEARSED_REFUSE };

enum { IPC_HOLD_NONE, IPC_HOLD_POLICY, IPC_HOLD_MALWARE };

void ipc_scan_result_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_scan_result *r);
bool ipc_scan_result_decode(struct ipc_msg *m, struct ipc_scan_result *r);

/* IPC_TXN_BEGIN: a transaction's start, as smtpd saw it. The queue checks
 * every string again before it reaches the spool. */
struct ipc_txn_begin {
	char session[IPC_STRING_MAX + 1];
	char client[IPC_STRING_MAX + 1];
	char helo[IPC_STRING_MAX + 1];
	char sender[IPC_STRING_MAX + 1];   /* "" = the null sender */
	uint64_t size;                     /* the client's SIZE=, 0 if none */
	uint32_t flags;                    /* IPC_TXN_F_* */
};

void ipc_txn_begin_encode(struct ipc_msg *m, uint32_t reqid, const struct ipc_txn_begin *b);
bool ipc_txn_begin_decode(struct ipc_msg *m, struct ipc_txn_begin *b);

/* The messages that carry one string: IPC_TXN_RCPT (the recipient), and
 * the queue's answers IPC_TXN_OPENED (queue id, with the pipe),
 * COMMITTED / DISCARDED (queue id), FAILED (reason), REFUSED (the reply). */
void ipc_txn_text_encode(struct ipc_msg *m, uint16_t type, uint32_t reqid, const char *text);
bool ipc_txn_text_decode(struct ipc_msg *m, char *text, size_t cap);

/* The messages that carry two strings: IPC_TXN_DSN (RET, ENVID) and
 * IPC_TXN_RCPT_DSN (NOTIFY, ORCPT), RFC 3461. */
void ipc_txn_pair_encode(struct ipc_msg *m, uint16_t type, uint32_t reqid, const char *a, const char *b);
bool ipc_txn_pair_decode(struct ipc_msg *m, char *a, size_t acap, char *b, size_t bcap);

/* The messages without a payload: IPC_TXN_OPEN and IPC_TXN_ABORT. */
void ipc_txn_empty_encode(struct ipc_msg *m, uint16_t type, uint32_t reqid);
bool ipc_txn_empty_decode(struct ipc_msg *m);

/* IPC_SCAN_FILE: scanner file number index of total (with its read-only
 * descriptor, or none when it is not configured). */
void ipc_scan_file_encode(struct ipc_msg *m, uint32_t index, uint32_t total);
bool ipc_scan_file_decode(struct ipc_msg *m, uint32_t *index, uint32_t *total);

/* IPC_LEVEL: new sessions start under emergency level n and rehearse
 * level rehearse (0: none) (SCAN-11); the receiver checks both against
 * its configuration's levels. */
void ipc_level_encode(struct ipc_msg *m, uint32_t n, uint32_t rehearse);
bool ipc_level_decode(struct ipc_msg *m, uint32_t *n, uint32_t *rehearse);

/* IPC_SPOOL_SPACE: queue to smtpd, the bytes free on the spool. */
void ipc_spool_space_encode(struct ipc_msg *m, uint64_t free_bytes);
bool ipc_spool_space_decode(struct ipc_msg *m, uint64_t *free_bytes);

/* IPC_SESSIONS: smtpd to queue, the SMTP sessions it has open now (sent
 * when the number changed, at most once a second), for the emergency
 * triggers (SCAN-11). */
void ipc_sessions_encode(struct ipc_msg *m, uint32_t n);
bool ipc_sessions_decode(struct ipc_msg *m, uint32_t *n);

/* ipc_scan_result.auth_results as the decoder accepts it: printable
 * ASCII and spaces; parentheses only as comments without nesting, no
 * quotes or backslashes, so nothing in it can end the header field or
 * open a comment that swallows the rest. */
bool ipc_auth_results_ok(const char *s);

/* A symbol name as the verdict accepts it. */
bool ipc_symbol_name_ok(const char *s);

#endif
