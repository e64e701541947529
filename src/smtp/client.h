/*
 * The outbound SMTP/LMTP client (RFC 5321, RFC 2033), asynchronous on
 * libevent. One job = one connection delivering one message to a list of
 * recipients. Shape (OpenSMTPD's mta_session): entering a state sends its
 * command; the reply decides the next state. Runs in the queue process.
 *
 * The result holds one reply per recipient: 2xx delivered, 5xx permanent
 * failure, anything else (including connection failures, reported as
 * synthesized 4xx replies) means try again later.
 */
#ifndef MW_SMTP_CLIENT_H
#define MW_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct sasl_creds;
struct ssl_ctx_st;
struct sockaddr_storage;
struct smtp_client_pool;
struct srcaddr;
struct tlsa_set;

/* TLS-RPT (RFC 8460): how the TLS of one new connection ended, so that
 * the queue can count the session as a success or a failure of the
 * result type the RFC names. */
enum smtp_tls_outcome {
	SMTP_TLS_VERIFIED,    /* TLS with a certificate valid for host (or matching its TLSA records) */
	SMTP_TLS_UNVERIFIED,  /* TLS up, certificate not valid: verify_error */
	SMTP_TLS_FAILED,      /* the handshake failed: verify_error (0: not the certificate) */
	SMTP_TLS_NOT_OFFERED, /* the peer offered no STARTTLS, or refused it */
};

struct smtp_tls_attempt {
	enum smtp_tls_outcome outcome;
	long verify_error;           /* OpenSSL's X509_V_ERR_*, 0 for none */
	const char *host;            /* the name the certificate was checked against */
	const char *ip;              /* the peer's address */
	const char *source_ip;       /* ours ("" if unknown) */
};

struct smtp_client_job {
	const char *host, *port;     /* for logs; and resolved when n_addrs is 0 */
	/* Addresses to try in order (ports set), e.g. every MX host's: the
	 * next one is tried when a connection fails or the greeting or EHLO
	 * is not 2xx, before MAIL was sent. Copied. */
	const struct sockaddr_storage *addrs;
	size_t n_addrs;
	bool lmtp;
	const char *helo_name;
	const char *sender;          /* "" for the null sender */
	char *const *rcpts;
	size_t n_rcpts;
	int body_fd;                 /* the spool file; read with pread, not closed */
	off_t body_offset, body_end; /* the message's bytes in it */
	const char *prefix;          /* sent before them (headers the queue adds); borrowed */
	size_t prefix_len;
	bool body_8bit, smtputf8;
	/* RFC 8689: MAIL FROM gets REQUIRETLS, and only a session with
	 * verified TLS to a server offering REQUIRETLS may carry the message
	 * (else 550 5.7.30). The caller sets tls_level verify (or DANE). */
	bool requiretls;
	/* RFC 3461 DSN parameters, passed on when the peer offers DSN:
	 * ret "FULL"/"HDRS" or NULL, envid xtext or NULL, and per recipient
	 * notify ("SUCCESS,FAILURE" ..., NULL: none given) and orcpt
	 * ("rfc822;addr" in xtext, NULL: none). Arrays may be NULL. */
	const char *dsn_ret, *dsn_envid;
	char *const *rcpt_notify, *const *rcpt_orcpt;
	unsigned connect_timeout, reply_timeout;
	const struct srcaddr *source;  /* SEC-3: bound before connect; NULL: the kernel's choice */
	/* TLS-5/TLS-7: tls_level is an enum tls_level (config.h). none: never
	 * STARTTLS; may: when offered; encrypt: STARTTLS or defer; verify: as
	 * encrypt, and the certificate must be valid for tls_name.
	 * tls_min_version (an OpenSSL version number) applies to every level. */
	int tls_level;
	int tls_min_version;
	struct ssl_ctx_st *tls_ctx;  /* NULL: no TLS at all */
	const char *tls_name;        /* the name (or address) to verify */
	/* Or one name per address of addrs (n_addrs of them), e.g. each
	 * address's MX host (borrowed, like the other strings); NULL: tls_name
	 * for all. The name is always checked, so that tls_verified says
	 * whether the certificate was valid for it; only verify defers on a
	 * mismatch. */
	const char *const *tls_names;
	/* TLS-8, DANE (RFC 7672): per address of addrs, its MX host's usable
	 * TLSA records, or NULL for a host without them; NULL: none at all.
	 * An address with records gets authenticated TLS against them (verify,
	 * whatever tls_level says). Borrowed. */
	const struct tlsa_set *const *tls_dane;
	/* Issue 15, the smart host. implicit_tls: TLS from the first byte
	 * (smtps://, RFC 8314 3.3), before the greeting; the caller sets
	 * tls_level verify, and a failed handshake never falls back to
	 * clear text. auth: log in with these (copied at start) before the
	 * first MAIL of the connection (RFC 4954), PLAIN if offered, else
	 * LOGIN (smtp/sasl_client.h), and only over TLS: a session without
	 * TLS, a server offering neither mechanism or refusing the
	 * credentials (535) defers every recipient (451 4.7.0), logged as
	 * client_auth_failed. NULL: no AUTH. */
	bool implicit_tls;
	const struct sasl_creds *auth;
	/* Required: the pool tracks the job from start to finish, so that
	 * none outlives the process (smtp_client_pool_stop()). Connection
	 * reuse and the per-destination limit: jobs with the same pool_key
	 * (the next hop) share at most the pool's per-destination number of
	 * connections; after a transaction the connection is parked for the
	 * next job instead of closed. pool_key NULL: a new connection for
	 * this job, no limit. */
	struct smtp_client_pool *pool;
	const char *pool_key;
	/* TLS-RPT: called once per new connection that reached the TLS
	 * decision (STARTTLS or not), with the job's done arg; a connection
	 * reused from the pool had its session counted when it was made.
	 * NULL: not wanted. The attempt's strings live during the call. */
	void (*tls_attempt)(void *arg, const struct smtp_tls_attempt *a);
};

struct smtp_client_reply {
	int code;                    /* 250, 450, 550, ... */
	char text[512];              /* the full last line, e.g. "250 2.0.0 Ok: queued as X" */
	char tls[128];               /* "TLSv1.3/TLS_AES_256_GCM_SHA384", or "none" */
	bool tls_verified;           /* TLS with a certificate valid for the host's name */
	char mta[64];                /* the address that gave it ("" if none was reached) */
	bool dsn_passed;             /* the peer offered DSN: NOTIFY went on with the recipient */
	int64_t ready_ms;            /* util/monotime.h: the session was ready for MAIL (connected,
	                                greeted, EHLO and STARTTLS done); 0: never */
};

/* Called once; replies[i] belongs to job->rcpts[i]. The job's strings must
 * live until then. May be called before smtp_client_start() returns (a
 * failure found at once, or a pool that is stopped). */
typedef void (*smtp_client_done_cb)(void *arg, const struct smtp_client_reply *replies, size_t n);

void smtp_client_start(struct event_base *base, const struct smtp_client_job *job,
		       smtp_client_done_cb done, void *arg);

/* A pool of connections per next hop. per_destination: open connections
 * (busy + idle) per key; reuse: park connections after a transaction;
 * idle_timeout seconds before a parked one is closed; max_messages per
 * connection. */
struct smtp_client_pool *smtp_client_pool_new(struct event_base *base, unsigned per_destination, bool reuse,
					      unsigned idle_timeout, unsigned max_messages);
/* At shutdown (issue 18 item 12), without waiting for any peer: every
 * job still running or waiting for a slot is cut short (its socket
 * closed, its memory freed) and its done callback called, before this
 * returns, with a 451 for each recipient that has no final reply yet (an
 * LMTP recipient the peer already accepted keeps its 250); parked
 * connections get a best-effort QUIT and are closed. Jobs started
 * afterwards end at once the same way. Runs on the loop's thread; the
 * loop need not run. */
void smtp_client_pool_stop(struct smtp_client_pool *p);
/* At exit: stops the pool (if not yet), then frees it. */
void smtp_client_pool_free(struct smtp_client_pool *p);

#endif
