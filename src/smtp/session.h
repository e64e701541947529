/*
 * One SMTP server session (RFC 5321) in smtpd. Every dialogue state is a
 * value of enum smtp_state and changes only through smtp_session_set_state().
 * The commands (commands.c) run in the states the command table allows;
 * the message body (message.c) streams into the pipe the queue handed
 * over, and the queue's verdict answers the end of the message
 * (session_queue.c). Whatever the session waits for, it waits in
 * SMTP_STATE_WAIT with one pending operation (wait.h).
 */
#ifndef MW_SMTP_SESSION_H
#define MW_SMTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "smtp/address.h"
#include "smtp/message.h"
#include "smtp/params.h"

struct conn;
struct smtpd;
struct listener_cfg;

/* The SASL exchange in progress (SMTP_STATE_AUTH). */
enum smtp_auth_step {
	SMTP_AUTH_NONE,
	SMTP_AUTH_PLAIN,        /* waiting for the PLAIN message */
	SMTP_AUTH_LOGIN_USER,   /* waiting for the LOGIN user name */
	SMTP_AUTH_LOGIN_PASS,   /* waiting for the LOGIN password */
};

struct scan_session;
struct smtp_session;

/* How a command goes on after a scanner stage: refusal is NULL or the reply. */
typedef void (*smtp_scan_then)(struct smtp_session *s, const char *refusal);
typedef void (*smtp_scan_rcpt_then)(struct smtp_session *s, const char *rcpt, const char *refusal);

enum smtp_state {
	SMTP_STATE_CONNECTED,   /* greeting sent; HELO/EHLO expected */
	SMTP_STATE_READY,       /* HELO/EHLO done, no transaction */
	SMTP_STATE_MAIL,        /* sender accepted */
	SMTP_STATE_RCPT,        /* at least one recipient accepted */
	SMTP_STATE_DATA,        /* reading the DATA body */
	SMTP_STATE_BDAT,        /* reading the bytes of a BDAT chunk */
	SMTP_STATE_CHUNKING,    /* between BDAT chunks of one transaction */
	SMTP_STATE_AUTH,        /* AUTH: reading the client's SASL responses */
	SMTP_STATE_WAIT,        /* one pending operation (s->pending); input paused (smtp/wait.h) */
	SMTP_STATE_CLOSING,     /* last reply queued; close when written */
	SMTP_STATE_COUNT
};

#define SMTP_STATE_BIT(s) (1u << (s))

/* What a waiting session waits for (issue 10: one wait state, typed). */
enum smtp_pending_kind {
	SMTP_PENDING_NONE,
	SMTP_PENDING_GREET_DELAY, /* the listener's greet_delay before the 220 */
	SMTP_PENDING_SCAN,        /* a scanner stage (its DNS lookups) */
	SMTP_PENDING_TLS,         /* the TLS handshake (STARTTLS or implicit TLS) */
	SMTP_PENDING_AUTH_CHECK,  /* the password hash, on a worker thread */
	SMTP_PENDING_AUTH_DELAY,  /* the delay after a failed AUTH */
	SMTP_PENDING_QUEUE_OPEN,  /* the queue's pipe for DATA or BDAT */
	SMTP_PENDING_BACKLOG,     /* the queue to take what is written of the message */
	SMTP_PENDING_DRAIN,       /* end of message: the queue to take the last bytes */
	SMTP_PENDING_VERDICT,     /* END-OF-MESSAGE sent: the queue's verdict */
	SMTP_PENDING_COUNT
};

/* How a wait ended. */
enum smtp_result_status {
	SMTP_RESULT_OK,          /* done; text: the queue id (QUEUE_OPEN, VERDICT) */
	SMTP_RESULT_REFUSED,     /* SCAN, VERDICT: text is the reply */
	SMTP_RESULT_DISCARDED,   /* VERDICT: accepted, then dropped; text: the queue id */
	SMTP_RESULT_FAILED,      /* the other side failed; text says why */
	SMTP_RESULT_EXPIRED,     /* the deadline passed first */
};

struct smtp_result {
	enum smtp_result_status status;
	const char *text;
	int fd;                  /* QUEUE_OPEN, OK: the pipe's write end (taken); else -1 */
};

/* The continuation: what to do with the result, and the data it needs. */
struct smtp_cont;
typedef void (*smtp_cont_fn)(struct smtp_session *s, const struct smtp_cont *c, const struct smtp_result *r);
struct smtp_cont {
	smtp_cont_fn fn;
	union {
		smtp_scan_then scan;             /* SCAN: the command's next step */
		smtp_scan_rcpt_then scan_rcpt;   /* SCAN of a RCPT */
		struct {
			char reply[128];         /* sent when the delay is over */
			bool cut_off;            /* then close */
		} auth;                          /* AUTH_DELAY */
		struct {
			char mech[8];            /* PLAIN or LOGIN, for the log */
			char user[256];
		} check;                         /* AUTH_CHECK */
		bool bdat;                       /* QUEUE_OPEN: for BDAT, not DATA */
	} u;
};

struct smtp_pending {
	enum smtp_pending_kind kind;    /* NONE unless the state is WAIT */
	struct smtp_cont cont;
	unsigned deadline;              /* seconds from the start of the wait */
	enum smtp_state from;           /* the state the wait returns to */
};

struct smtp_txn {
	struct address sender;
	char sender_text[ADDRESS_PATH_MAX + 1];
	struct mail_params params;
	char **rcpts;
	struct rcpt_params *rcpt_dsn; /* DSN parameters of rcpts[i] (RFC 3461) */
	struct rcpt_params pending_dsn; /* of the RCPT the scanner is looking at */
	unsigned n_rcpts;
	uint32_t reqid;          /* names this transaction on the queue channel */
	struct message msg;      /* the body on its way to the spool */
	bool queue_knows;        /* BEGIN was sent: the queue must hear COMMIT or ABORT */
	bool spool_full;         /* the queue failed it for lack of space: 452 4.3.1 (ipc/msg.h) */
	bool bdat_failed;        /* a BDAT chunk was refused: discard until LAST, then fail */
	uint64_t chunk_left;     /* bytes still to read of the current BDAT chunk */
	bool chunk_last;
	char rehearsal[64];      /* SCAN-11: the limit the rehearsed level would have refused by */
};

struct smtp_session {
	TAILQ_ENTRY(smtp_session) link;
	struct smtpd *smtpd;
	/* SCAN-11: the snapshot of the emergency level in force when the
	 * session began, and its number: the session finishes under it even
	 * if the level changes meanwhile. Owned by the smtpd's configuration,
	 * which outlives every session. */
	const struct config *cfg;
	uint32_t level;
	/* The level being rehearsed (smtp/rehearsal.h), or NULL and 0. */
	const struct config *rehearse_cfg;
	uint32_t rehearse;
	struct conn *conn;
	char id[17];
	char client_ip[64];
	char client_port[8];
	struct sockaddr_storage client_addr;
	const char *listener;    /* name of the listener it came in on */
	const struct listener_cfg *lcfg;  /* its settings (TLS, AUTH, networks) */
	bool tls;                /* TLS is established (STARTTLS or implicit) */
	char auth_user[256];     /* the authenticated login; "" if none (REL-3, REL-4) */
	enum smtp_auth_step auth_step;
	uint32_t auth_check;     /* number of the password check in flight: a late result of
				  * an earlier one (its wait expired) never counts for this one */
	char auth_login[256];    /* LOGIN: the user name while the password is asked for */
	enum smtp_state state;
	struct smtp_pending pending;  /* what the session waits for in SMTP_STATE_WAIT */
	bool esmtp;              /* EHLO (not HELO) was used */
	char helo[256];
	unsigned errors;
	bool data_refused;       /* a DATA was refused: no MAIL before RSET/HELO/EHLO (RFC 2920) */
	struct smtp_txn *txn;    /* NULL outside a transaction */
	/* scanner (smtp/scan_hook.c); scan is NULL when no scan section is configured */
	struct scan_session *scan;
};

/* Accept a new connection (fd) on a listener. */
void smtp_session_start(struct smtpd *d, int fd, const struct sockaddr *sa, const char *listener);

/* The queue answered this session's transaction (ok false: TXN_FAILED). */
void smtp_session_queue_opened(struct smtp_session *s, const char *queue_id, int fd);
void smtp_session_queue_committed(struct smtp_session *s, const char *queue_id);
/* The queue's verdict refuses the message (reply: the whole reply line). */
void smtp_session_queue_refused(struct smtp_session *s, const char *reply);
/* The queue's verdict drops the message: the client gets 250 all the same. */
void smtp_session_queue_discarded(struct smtp_session *s, const char *queue_id);
void smtp_session_queue_failed(struct smtp_session *s, const char *reason);
/* The queue process died: a transaction it knew is answered 451 now if
 * waiting for it, else at its end (never 250: Q-1). */
void smtp_session_queue_lost(struct smtp_session *s);

/* smtpd is stopping: close now if idle, otherwise at the end of the transaction. */
void smtp_session_shutdown(struct smtp_session *s);
/* No answer in time: log the timeout (kind: the wait that ran out, or
 * SMTP_PENDING_NONE for the client's silence), 421 4.4.2 and close. */
void smtp_session_timed_out(struct smtp_session *s, enum smtp_pending_kind kind);

/* For commands.c */
void smtp_session_set_state(struct smtp_session *s, enum smtp_state to);
const char *smtp_state_name(enum smtp_state st);
void smtp_session_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void smtp_session_error(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void smtp_session_close(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct smtp_txn *smtp_session_txn_new(struct smtp_session *s);
void smtp_session_txn_reset(struct smtp_session *s);
void smtp_session_begin_data(struct smtp_session *s, bool bdat);
void smtp_session_end_of_message(struct smtp_session *s);
/* RFC 2920 3.1: after a command that ends a pipelining group (and before
 * the greeting) the client must wait for our reply. If it has sent more,
 * end the session with 554 5.5.0 naming `after` and return true: those
 * bytes are never executed (issue 18 item 1, SEC-4). */
bool smtp_session_out_of_sync(struct smtp_session *s, const char *after);
/* Is the client in the trusted networks (global or the listener's)? */
bool smtp_session_trusted(const struct smtp_session *s);
/* May the client start one more TLS handshake (limits.tls_handshakes_per_minute,
 * issue 18 item 4)? Counts it if so; logs the refusal if not. */
bool smtp_session_tls_allowed(struct smtp_session *s);
/* STARTTLS (RFC 3207): the 220 is queued; discard pipelined input, start
 * the handshake. False if TLS could not be set up. */
bool smtp_session_start_tls(struct smtp_session *s);

#endif
