/*
 * The scanner pipeline (DESIGN.md "Scanner", SCAN-2..4). Runs in smtpd,
 * on the session's event loop; never blocks it: a check that waits on the
 * network finishes from a DNS callback.
 *
 * A check is one file (check_<name>.c) defining a struct scan_check with an
 * entry point per SMTP stage it cares about, plus one line in checks.c.
 * A stage runs the checks the direction's policy does not switch off, one
 * after the other in registration order; each reports hits with
 * scan_hit() and ends with scan_job_done() (now or later). A hit of a
 * check whose policy is "refuse" ends the stage with that refusal (the
 * checks after it do not run: no DNS query leaves after a local refusal);
 * under "score" it adds points. At the end of the message the symbols go
 * to the queue, whose verdict (verdict/verdict.h) adds them to the
 * content checks' and maps the score to an action.
 */
#ifndef MW_SCAN_SCAN_H
#define MW_SCAN_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "scan/policy.h"

struct config;
struct event_base;
struct dns;
struct ipc_eom;
struct offload;

enum scan_stage {
	SCAN_STAGE_CONNECT,
	SCAN_STAGE_HELO,
	SCAN_STAGE_MAIL,
	SCAN_STAGE_RCPT,
	SCAN_STAGE_DATA,
	SCAN_STAGES
};

struct scan_session;
struct scan_job;

struct scan_check {
	const char *name;            /* the key under scan.<direction>.checks */
	const char *default_reply;   /* "550 5.7.1 ..." when refusing */
	bool reputation;             /* skipped for clients on the allow list */
	void (*stage[SCAN_STAGES])(struct scan_job *job);
};

/* The registry (checks.c), in running order. */
extern const struct scan_check *const scan_checks[];
extern const size_t scan_n_checks;
/* Index of a check by name, or -1. */
int scan_check_index(const char *name, size_t len);

/* What a check sees of the session. */
struct scan_facts {
	struct sockaddr_storage client;
	char client_ip[64];
	char helo[256];
	char sender[600];          /* "" = null sender */
	char rcpt[600];            /* during the RCPT stage */
	bool outbound;             /* client in trusted_networks, or authenticated */
	bool auth_possible;        /* the listener offers AUTH */
	bool authenticated;        /* the client logged in (AUTH) */
	bool allowlisted;          /* on the scanner's allow list */
	/* Reverse DNS (RFC 8601 iprev): filled by the rdns/fcrdns checks. */
	char ptr[256];             /* first PTR name, "" if none */
	const char *iprev;         /* "pass", "fail", "temperror", or NULL: not checked */
	const char *spf;           /* "pass", "fail", ... or NULL: not checked */
};

/* --- for checks --------------------------------------------------------- */

struct scan_facts *scan_job_facts(struct scan_job *job);
struct dns *scan_job_dns(struct scan_job *job);
/* Where a check runs work that may block (disk, CPU): one worker thread
 * per smtpd process, so a resource used only there needs no lock. NULL if
 * it could not be started. */
struct offload *scan_job_offload(struct scan_job *job);
struct event_base *scan_job_base(struct scan_job *job);
const struct config *scan_job_config(struct scan_job *job);
const struct scan_config *scan_job_scan_config(struct scan_job *job);
/* A hit: symbol (an upper-case word) and a detail for the reply and log.
 * points < 0: the check's configured points, else these points, in
 * hundredths. */
void scan_hit(struct scan_job *job, const char *symbol, int points, const char *detail);
/* The same with points as given, negative ones included: the lists that
 * carry their own weights (DNSBL zones and return codes, zone files),
 * where -2 is a list that speaks for the client. */
void scan_hit_points(struct scan_job *job, const char *symbol, int points, const char *detail);
/* The check is finished with this stage (exactly once per call of its
 * stage function). May be called inside the stage function or later. */
void scan_job_done(struct scan_job *job);
/* A check waiting on a callback keeps the job; false when the session
 * went away meanwhile: then just call scan_job_done() and touch nothing. */
bool scan_job_alive(const struct scan_job *job);

/* --- for smtpd ------------------------------------------------------------ */

/* Before the privilege drop: load the lists and zone files and note the
 * resolver. Runs in the forked smtpd child as root (or the caller).
 * false: a file that is not optional cannot be loaded (fail closed). */
bool scan_prepare(const struct config *c);

/* After the drop: the process's DNS resolver on its event loop. */
void scan_start(struct event_base *base, const struct config *c);

/* One per SMTP session; NULL when no scan section is configured. */
struct scan_session *scan_session_new(const struct config *c, const struct sockaddr *client,
				      const char *client_ip, bool outbound);
/* The session ends; pending checks finish into nothing. */
void scan_session_free(struct scan_session *ss);
struct scan_facts *scan_session_facts(struct scan_session *ss);
/* The client authenticated (AUTH): its mail is outbound from now on and
 * goes by the outbound policy (SCAN-1), and policy lists that exempt
 * logged-in clients no longer apply. */
void scan_session_set_outbound(struct scan_session *ss);

/* SCAN-11 rehearsal: judge the session's hits by rv's check actions too
 * (rv: the configuration of the level being rehearsed). A hit that rv
 * would make refuse where the level in force does not is logged
 * (event=rehearsal) and named by scan_session_rehearsal(); nothing else
 * changes. Only checks that run under the level in force are judged: a
 * check it has off is not run for a rehearsal (it would query DNS, call
 * out or write greylist entries on behalf of a level not in force). */
void scan_session_rehearse(struct scan_session *ss, const struct config *rv);
/* "checks.NAME" of the first hit the rehearsed level would have refused
 * (the connection's, else the current message's), or "". */
const char *scan_session_rehearsal(const struct scan_session *ss);

/* Run a stage. done() is called once, maybe before scan_run returns, with
 * refused true and the reply when a refusing check hit. */
typedef void (*scan_done_cb)(void *arg, bool refused, const char *reply);
void scan_run(struct scan_session *ss, enum scan_stage stage, scan_done_cb done, void *arg);

/* A new transaction (MAIL after RSET or a finished message): the
 * per-message symbols go, the connection's stay. */
void scan_message_reset(struct scan_session *ss);

/* END-OF-MESSAGE: the direction, the facts for Authentication-Results
 * and the symbols that score (not those that refused a command). */
void scan_eom_facts(struct scan_session *ss, struct ipc_eom *e);

#endif
