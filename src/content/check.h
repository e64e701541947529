/*
 * Content checks: what the scanner process runs on a whole message (DESIGN
 * "Scanner"; SCAN-1, SCAN-5). A check is one file (check_<name>.c)
 * defining a struct content_check, plus one line in checks.c. It reads the
 * message (header section and body, as received, CRLF line ends) and
 * reports hits; the direction's policy (scan.<direction>.checks.<name>)
 * decides whether a hit scores or refuses, like the SMTP-time checks.
 *
 * Checks run in the scanner's worker threads: they may take CPU time,
 * must not block on the network, and touch nothing but the message and
 * their own read-only data.
 */
#ifndef MW_CONTENT_CHECK_H
#define MW_CONTENT_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/policy.h"

struct content_job;

struct content_check {
	const char *name;            /* the key under scan.<direction>.checks */
	const char *default_reply;   /* when its policy refuses */
	/* When scan.<direction>.checks does not name it (SCAN_CHECK_OFF, the
	 * zero value, for most checks). */
	enum scan_check_action default_action;
	/* Runs only on mail whose client logged in (AUTH): other mail does
	 * not even go through the scanner for it. */
	bool auth_only;
	/* Its hits name a part of the MIME view (content_job_part), so the
	 * strip action can remove it (SCAN-8); a check without it refuses
	 * "action: strip" in the configuration. */
	bool can_strip;
	void (*run)(struct content_job *job, const char *msg, size_t len);
};

/* The registry (checks.c), in running order. */
extern const struct content_check *const content_checks[];
extern const size_t content_n_checks;
/* Index of a check by name, or -1. */
int content_check_index(const char *name, size_t len);

/* The envelope, the AUTH login and smtpd's symbols of the message being
 * scanned (as the queue checked them; still data from the network). */
struct ipc_scan_request;
const struct ipc_scan_request *content_job_envelope(const struct content_job *job);
/* A malware engine found something in the message (whatever the
 * check's action): told to the queue for the emergency triggers. */
void content_malware_found(struct content_job *job);
/* The configuration snapshot the scanner runs with (read-only). */
struct config;
const struct config *content_job_config(const struct content_job *job);
/* REL-3: may the message's AUTH login use address (auth_db_sender_ok's
 * rules, with the sender-login table the scanner loaded at start)? False
 * when the message has no login. */
bool content_job_sender_ok(const struct content_job *job, const char *address);

/* scan.yara's compiled rules (content/yara.h), or NULL: none. */
struct yara_engine;
const struct yara_engine *content_job_yara(const struct content_job *job);

/* Has Bayes learnt enough to answer (scan.bayes_min_learned of each)? */
bool content_job_bayes_ready(const struct content_job *job);

/* The message's MIME view (content/mime.h), parsed once per message for
 * every check that asks (msg, len: what the check was given). */
struct mime_message;
const struct mime_message *content_job_mime(struct content_job *job, const char *msg, size_t len);

/* The salvage view of the message (content/salvage.h): blocks a lenient
 * reader would decode that the MIME view does not hold; made once. */
struct salvage;
const struct salvage *content_job_salvage(struct content_job *job, const char *msg, size_t len);

/* The URLs of its text parts (content/uri.h), found once per message. */
struct uri_list;
const struct uri_list *content_job_uris(struct content_job *job, const char *msg, size_t len);

/* The DKIM and DMARC records fetched for the message (content/authdns.h),
 * or NULL when none were (`mailwarden scan`). */
struct authdns;
const struct authdns *content_job_authdns(const struct content_job *job);
/* The message's DKIM signatures verified, once per message for every
 * check that asks; NULL when no records were fetched. */
struct dkimlib_verdict;
const struct dkimlib_verdict *content_job_dkim(struct content_job *job, const char *msg, size_t len);
/* scan.dkim_sign's signing keys (content/signkeys.h), or NULL. */
struct signkeys;
const struct signkeys *content_job_dkim_keys(const struct content_job *job);

/* One RFC 8601 result of the running check ("dkim=pass header.d=x"),
 * for the Authentication-Results field the queue writes: no ';', else as
 * ipc_auth_results_ok (ipc/txn.h) accepts; dropped if it is not or does
 * not fit. */
void content_auth_result(struct content_job *job, const char *result);
/* Header lines to add at delivery (CRLF-terminated fields), after those
 * of earlier checks; false, nothing added, if they do not fit. */
bool content_add_headers(struct content_job *job, const char *fields);
/* The message as it arrived, before any check replaced it: what the
 * quarantine keeps. */
const char *content_job_original(const struct content_job *job, size_t *len);
/* Header lines for the quarantined original, added only when it is
 * released (ipc_scan_result.release_headers); false if they do not fit. */
bool content_add_release_headers(struct content_job *job, const char *fields);
/* The running check's configured points (hundredths) and action. */
int content_check_points(const struct content_job *job);
enum scan_check_action content_check_action(const struct content_job *job);
/* A symbol that only informs (DKIM_VALID, DMARC_PASS): points as given,
 * never a refusal, whatever the check's policy. */
void content_symbol(struct content_job *job, const char *symbol, int points, const char *detail);

/* A hit of the running check: symbol (upper case) and points in
 * hundredths (verdict/points.h; < 0: the check's configured points). */
void content_hit(struct content_job *job, const char *symbol, int points, const char *detail);
/* The same with points as given, negative ones included (rules that
 * speak for a message, "nice" in SpamAssassin's words). */
void content_hit_points(struct content_job *job, const char *symbol, int points, const char *detail);

/* A hit as content_hit, whose refusal (when the policy refuses and names
 * no reply of its own) is reply, e.g. one that names the finding
 * ("554 5.7.0 ..."; an SMTP reply as ipc_scan_result accepts it). */
void content_hit_reply(struct content_job *job, const char *symbol, int points, const char *detail, const char *reply);
/* A hit that refuses with reply whatever scan.<direction>.checks says
 * of the running check: for a check with a policy of its own
 * (scan.encryption). The symbol is logged; a refused message has no
 * score to add it to. */
void content_refuse(struct content_job *job, const char *symbol, const char *detail, const char *reply);
/* A hit that holds the message in quarantine whatever its score
 * (ipc_scan_result.hold): a check's own policy (scan.encryption's
 * quarantine), or with malware an engine's finding in outbound mail
 * (SCAN-9), for which the queue also raises the alarm. The symbol adds
 * points as given. A refusal by another check still wins. */
void content_hold(struct content_job *job, const char *symbol, int points, const char *detail, bool malware);
/* The running check could not judge the message (an engine down): the
 * message is refused with reply, a 4xx, whatever the check's policy, so
 * the client keeps it and tries again. A refusal by a hit (5xx), before
 * or after, wins over it. */
void content_tempfail(struct content_job *job, const char *reply);

/* The running check now judges leaf part index of the MIME view
 * (content_job_mime), or -1: a buffer that is no leaf of it (a salvage
 * blob, the raw message, a name only broken MIME shows). Under the strip
 * action a hit removes that part; with -1 it cannot be located, and the
 * whole message is held instead (logged). */
void content_job_part(struct content_job *job, int index);
/* A hit the check does not report again (the same symbol or finding seen
 * before in this message) on the current part: under the strip action
 * that part goes too. Nothing otherwise. */
void content_hit_again(struct content_job *job, const char *detail);

/* Replace the message: later checks see msg[0..len) instead, and the
 * queue stores it in place of what was received (a message that goes to
 * quarantine keeps the original). Copied; at most the received size +
 * IPC_SCAN_REWRITE_GROWTH bytes (false, nothing replaced, if larger). */
bool content_replace(struct content_job *job, const char *msg, size_t len);

/* The message's header section: msg[0..returned) up to and including the
 * empty line (or all of msg if there is none). */
size_t content_header_end(const char *msg, size_t len);
/* The first header field named name (case-insensitive) in the header
 * section hdr[0..len): true, with its first line's value in value, vlen
 * (continuation lines are not joined). */
bool content_header_find(const char *hdr, size_t len, const char *name, const char **value, size_t *vlen);
/* Does the header line (or field) line[0..llen) have this field name
 * (case-insensitive; white space before the colon accepted, as readers
 * do)? The offset of its value, past the colon, in *voff. */
bool content_field_is(const char *line, size_t llen, const char *name, size_t *voff);
/* Is the line at line[0..len) an mbox separator ("From " sender and an
 * asctime date), not just a body line that starts with "From "? */
bool content_mbox_separator(const char *line, size_t len);
/* The length of the header field at hdr[pos..len): its line and its
 * continuation lines (RFC 5322 2.2.3), line breaks included. */
size_t content_field_len(const char *hdr, size_t len, size_t pos);
/* Copy msg[0..len) to out (room for len bytes) without the header fields
 * for which drop(field, field_len, arg) is true; a field is its first line
 * and its continuation lines, field_len counts them all. The body is
 * copied unchanged. Returns the bytes written. */
size_t content_header_remove(const char *msg, size_t len, bool (*drop)(const char *field, size_t flen, void *arg),
			     void *arg, char *out);
/* How many header fields named name hdr[0..len) has. */
size_t content_header_count(const char *hdr, size_t len, const char *name);
/* The value of the first field named name, unfolded (RFC 5322 2.2.3:
 * continuation lines joined, line breaks removed) and NUL-terminated,
 * its length in *vlen (a NUL byte from the message makes strlen shorter);
 * NULL if there is none. Caller frees. */
char *content_header_unfold(const char *hdr, size_t len, const char *name, size_t *vlen);

#endif
